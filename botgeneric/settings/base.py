"""Settings for every environment, read from environment variables (django-environ).

Safe defaults exist only for local use; with DEBUG off the process refuses to start
without a strong SECRET_KEY.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from botgeneric.cache import cache_settings
from botgeneric.error_reporting import init_sentry
from botgeneric.log_format import logging_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def validate_secret_key(key: str, debug: bool) -> str:
    """Refuse a missing, short, low-entropy or Django-generated insecure key outside DEBUG."""
    if debug:
        return key or "dev-only-insecure-key-never-used-in-production-0123456789"
    if not key:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    if key.startswith("django-insecure") or len(key) < 50 or len(set(key)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY is insecure: use at least 50 random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )
    return key


SECRET_KEY = validate_secret_key(env.str("SECRET_KEY", default=""), DEBUG)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.apple",
    "allauth.socialaccount.providers.telegram",
    "accounts",
    "tenants",
    "agents",
    "prompts",
    "billing",
    "policy",
    "usage",
    "channels_web",
    "channels_tg",
    "background",
    "deployments",
    "leads",
    "privacy",
    "webhooks",
    "notifications",
]

# Django's own middleware in botgeneric.middleware: no thread per hook under ASGI, and no session machinery
# for API-key calls (the module says why each is safe).
MIDDLEWARE = [
    "botgeneric.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "botgeneric.static_files.AsyncWhiteNoiseMiddleware",
    "botgeneric.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "botgeneric.middleware.LocaleMiddleware",
    "botgeneric.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "botgeneric.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLocaleMiddleware",
    "botgeneric.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "botgeneric.urls"
WSGI_APPLICATION = "botgeneric.wsgi.application"
ASGI_APPLICATION = "botgeneric.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The invoke path's statements are prepared on a connection after this many runs on it
    # (botgeneric/prepared_statements.py); the ORM's queries are never prepared. Empty: never (e.g. behind
    # a PgBouncer older than 1.21 in transaction mode).
    _prepare_threshold = env.str("DATABASE_PREPARE_THRESHOLD", default="5")
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        int(_prepare_threshold) if _prepare_threshold else None
    )
# Connection pool (invoke path / benchmark): with many threads waiting on slow LLM calls, a pool per
# process keeps PostgreSQL connections bounded. Django requires CONN_MAX_AGE=0 with a pool.
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=0)
if DATABASE_POOL_MAX_SIZE and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, DATABASE_POOL_MAX_SIZE),
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
    }
    # Pooled connections are checked without a round trip (botgeneric/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "botgeneric.postgresql"
DATABASES["default"]["CONN_HEALTH_CHECKS"] = not DATABASES["default"].get("OPTIONS", {}).get("pool")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# A Redis outage degrades the cache to misses (botgeneric.cache) after at most this long per call.
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=1.0)
CACHES = cache_settings(redis_url=REDIS_URL, timeout_seconds=REDIS_TIMEOUT_SECONDS)

# Background tasks (Celery; botgeneric/celery.py). RabbitMQ in production, e.g.
# amqp://user:pass@rabbitmq:5672//. Empty: every task runs inline, once the transaction that queued it
# commits, so `make run` and the tests need no broker. No task returns a value anyone reads, so there is
# no result backend unless CELERY_RESULT_BACKEND names one (e.g. redis://…/1, to inspect results).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="botgeneric")
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=4.0)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = env.str("CELERY_BEAT_SCHEDULE_FILENAME", default="celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "billing-tick": {"task": "billing.tick", "schedule": 60.0},
    "billing-retry-webhooks": {"task": "billing.retry_webhooks", "schedule": 300.0},
    "billing-reconcile-payments": {"task": "billing.reconcile_pending_payments", "schedule": 300.0},
    "usage-roll-up-daily": {"task": "usage.roll_up_daily", "schedule": 60.0},
    "privacy-tick": {"task": "privacy.tick", "schedule": 900.0},
    "webhooks-retry-deliveries": {"task": "webhooks.retry_deliveries", "schedule": 60.0},
    "webhooks-prune-deliveries": {"task": "webhooks.prune_deliveries", "schedule": 86400.0},
    "notifications-trials-ending": {"task": "notifications.trials_ending", "schedule": 3600.0},
    "notifications-daily-summary": {
        "task": "notifications.daily_summary",
        "schedule": crontab(hour=env.int("DAILY_SUMMARY_HOUR_UTC", default=6), minute=0),
    },
}
# The daily usage roll-up reads events at least this old, so one whose statement commits late is not passed over.
USAGE_ROLLUP_SETTLE_SECONDS = env.int("USAGE_ROLLUP_SETTLE_SECONDS", default=60)
# background.task_base.BackgroundTask: retries with exponential backoff, then a dead letter.
TASK_MAX_RETRIES = env.int("TASK_MAX_RETRIES", default=5)
TASK_RETRY_BACKOFF_SECONDS = env.int("TASK_RETRY_BACKOFF_SECONDS", default=10)
TASK_RETRY_BACKOFF_MAX_SECONDS = env.int("TASK_RETRY_BACKOFF_MAX_SECONDS", default=600)
TASK_RETRY_JITTER = env.bool("TASK_RETRY_JITTER", default=True)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/dashboard/"
SITE_ID = 1
# The site's name and address: the subject prefix of allauth's e-mails ("[bot-generic] …") and the host of
# links built outside a request (the bot's /register). `migrate` writes them into the Site row.
SITE_NAME = env.str("SITE_NAME", default="bot-generic")
SITE_DOMAIN = env.str("SITE_DOMAIN", default="127.0.0.1:8000")

LANGUAGE_CODE = "en"
SUPPORTED_LOCALES = env.list("SUPPORTED_LOCALES", default=["en", "ru"])
_LANGUAGE_NAMES = {"en": _("English"), "ru": _("Russian")}
LANGUAGES = [(code, _LANGUAGE_NAMES.get(code, code)) for code in SUPPORTED_LOCALES]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Data exports (privacy): private files, never under a served directory; only the owner's signed link
# reaches one, through the app. Any Django storage works here (e.g. a private S3 bucket).
EXPORTS_DIR = env.str("EXPORTS_DIR", default=str(BASE_DIR / "private" / "exports"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "exports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": EXPORTS_DIR}},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Mail is queued after commit and delivered by the `background.send_email` task through EMAIL_URL's backend.
EMAIL_DELIVERY_BACKEND = EMAIL_BACKEND  # noqa: F821 — set from EMAIL_CONFIG just above
EMAIL_BACKEND = "background.mail.QueuedEmailBackend"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="bot-generic <noreply@localhost>")

# HTTPS hardening: on by default; `make run` on plain http://127.0.0.1 turns it off in its .env.
HTTPS_ONLY = env.bool("HTTPS_ONLY", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS_ONLY
# Health and readiness probes reach a container over plain HTTP, not through the TLS proxy.
# So does a Prometheus scraper (/metrics, token-guarded), from inside the deployment's network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if HTTPS_ONLY else "http"
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = HTTPS_ONLY
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Reverse proxies in front of the app that append to X-Forwarded-For (0 = clients connect directly).
# Throttles, allauth's rate limits and YooKassa's IP allowlist read the client address through it.
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=env.int("YOOKASSA_TRUSTED_PROXY_HOPS", default=0))


def allauth_rate(drf_rate: str) -> str:
    """A throttle rate in DRF's format (`5/hour`) as allauth's per-IP rate (`5/3600s/ip`)."""
    count, period = drf_rate.split("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
    return f"{int(count)}/{seconds}s/ip"


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.VersionedJWTAuthentication",
        "tenants.authentication.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "tenants.permissions.ApiKeyScopes",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "botgeneric.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "botgeneric.api_errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "auth_ip": env.str("AUTH_THROTTLE_IP", default="10/min"),
        "auth_email": env.str("AUTH_THROTTLE_EMAIL", default="10/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NUM_PROXIES": TRUSTED_PROXY_HOPS,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_LIFETIME_SECONDS", default=900)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_LIFETIME_SECONDS", default=14 * 86400)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "TOKEN_REFRESH_SERIALIZER": "accounts.tokens.VersionedTokenRefreshSerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "bot-generic API",
    "DESCRIPTION": "Subscription access to prompt-based AI agents.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from our static files (drf-spectacular-sidecar), so /api/v1/docs/ works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["botgeneric.openapi.public_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "botgeneric.openapi.document_common_errors",
        "botgeneric.openapi.readable_operations",
    ],
    "ENUM_NAME_OVERRIDES": {
        "LocaleEnum": "accounts.models.Locale",
        "AccountStatusEnum": "billing.models.AccountStatus",
        "PaymentStatusEnum": "billing.models.PaymentStatus",
        "PaymentProviderEnum": "billing.models.PaymentProvider",
        "BillingChangeEnum": "billing.services.preview.BillingChange",
        "PreviewNoteEnum": "billing.services.preview.PreviewNote",
        "PreviewActionEnum": ["subscribe", "cancel"],
        "QuotaMetricEnum": ["requests", "tokens_input", "tokens_output", "members"],
        "ChannelEnum": "botgeneric.channels.Channel",
        "DeploymentChannelEnum": "deployments.models.DeploymentChannel",
        "DeploymentStatusEnum": "deployments.models.DeploymentStatus",
        "LeadStatusEnum": "leads.models.LeadStatus",
        "ExportStatusEnum": "privacy.models.ExportStatus",
        "WebhookEventTypeEnum": "webhooks.models.EventType",
        "WebhookDeliveryStatusEnum": "webhooks.models.DeliveryStatus",
        "RoleEnum": "tenants.models.Role",
        "InvitableRoleEnum": "tenants.models.INVITABLE_ROLE_CHOICES",
        "InvitationStatusEnum": "tenants.models.InvitationStatus",
        "MessageRoleEnum": "agents.models.MessageRole",
        "ChatMessageRoleEnum": ["system", "developer", "user", "assistant", "tool"],
        "OpenAIResponseStatusEnum": ["completed", "incomplete", "failed", "in_progress"],
        "FunctionTypeEnum": ["function"],
        "ResponseFormatTypeEnum": ["text", "json_object", "json_schema"],
    },
}

# allauth: e-mail is the login; sign-up goes through accounts.services.register_user.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
# 5 failed sign-ins lock the account (the resolved account, see channels_web.adapters) for 5 minutes;
# the API login goes through the same allauth counters.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
# Sign-ups per client IP, the API and the web sign-up together.
SIGNUP_THROTTLE_IP = env.str("SIGNUP_THROTTLE_IP", default="5/hour")
ACCOUNT_RATE_LIMITS["signup"] = allauth_rate(SIGNUP_THROTTLE_IP)

# --- Web channel (channels_web): allauth adapters and social providers. ---
# The provider apps are always installed; a provider gets an "APPS" entry (and so a button on the
# sign-in page) only when its credentials are in the environment.
ACCOUNT_ADAPTER = "channels_web.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "channels_web.adapters.SocialAccountAdapter"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_RATE_LIMITS["login"] = "30/m/ip"
# Telegram gives no e-mail; a Telegram sign-up still gets an account (User.email is nullable).
SOCIALACCOUNT_EMAIL_REQUIRED = False
# A provider-verified e-mail that matches an existing account signs in to that account, but only when
# that account has verified the address itself (SocialAccountAdapter.authenticate_by_email).
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_PROVIDERS: dict = {}
if env.str("GOOGLE_CLIENT_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["google"] = {
        "APPS": [{"client_id": env.str("GOOGLE_CLIENT_ID"), "secret": env.str("GOOGLE_CLIENT_SECRET", default="")}],
        "SCOPE": ["openid", "profile", "email"],
    }
if env.str("APPLE_CLIENT_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["apple"] = {
        "APPS": [
            {
                "client_id": env.str("APPLE_CLIENT_ID"),
                "secret": env.str("APPLE_KEY_ID", default=""),
                "key": env.str("APPLE_TEAM_ID", default=""),
                "settings": {"certificate_key": env.str("APPLE_PRIVATE_KEY", default="").replace("\\n", "\n")},
            }
        ]
    }
# Where the providers publish the keys their ID tokens are signed with (POST /api/v1/auth/social/...).
GOOGLE_JWKS_URL = env.str("GOOGLE_JWKS_URL", default="https://www.googleapis.com/oauth2/v3/certs")
APPLE_JWKS_URL = env.str("APPLE_JWKS_URL", default="https://appleid.apple.com/auth/keys")
TELEGRAM_BOT_NAME = env.str("TELEGRAM_BOT_NAME", default="")
if env.str("TELEGRAM_BOT_TOKEN", default=""):
    # allauth's Telegram provider: client_id is the bot id (the token's numeric part), secret the token.
    SOCIALACCOUNT_PROVIDERS["telegram"] = {
        "APPS": [
            {
                "client_id": env.str("TELEGRAM_BOT_TOKEN").split(":", 1)[0],
                "secret": env.str("TELEGRAM_BOT_TOKEN"),
                "name": TELEGRAM_BOT_NAME,
            }
        ]
    }
# Longest text a dashboard user can send in one message.
WEB_MAX_INPUT_CHARS = env.int("WEB_MAX_INPUT_CHARS", default=20000)

# Product settings.
TRIAL_PLAN = env.str("TRIAL_PLAN", default="monthly")
# Requests a trialing organization gets while the caller's e-mail is unverified (Telegram accounts
# count as verified).
TRIAL_UNVERIFIED_REQUESTS = env.int("TRIAL_UNVERIFIED_REQUESTS", default=20)
# Days an organization's data export can be downloaded (the e-mailed link and the file expire together).
EXPORT_LINK_DAYS = env.int("EXPORT_LINK_DAYS", default=7)
# Each export reads the whole organization: an organization may ask for one this often (0 = no limit).
EXPORT_MIN_INTERVAL_MINUTES = env.int("EXPORT_MIN_INTERVAL_MINUTES", default=10)
# Days between an owner's request to delete the organization and the erasure (it can be restored until then).
ORGANIZATION_DELETION_GRACE_DAYS = env.int("ORGANIZATION_DELETION_GRACE_DAYS", default=14)
# Days an invitation link to join an organization works (once) before it expires.
INVITATION_EXPIRY_DAYS = env.int("INVITATION_EXPIRY_DAYS", default=7)
# Days a past_due account (renewal failed, being retried) keeps access before it expires.
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=3)
# Invoices are numbered <issuer>-<year>-<000123>, without gaps per issuer and year.
INVOICE_ISSUER = env.str("INVOICE_ISSUER", default="INV")
# Who the invoice is from, printed on it (e.g. "Example LLC, 1 Main St, Tax ID 123").
INVOICE_SELLER = env.str("INVOICE_SELLER", default="bot-generic")
# A webhook event whose processing failed is tried again by the `billing.retry_webhooks` task (every five
# minutes) WEBHOOK_RETRY_BASE_SECONDS × 2ⁿ after its n-th attempt (at most six hours apart); after
# WEBHOOK_MAX_ATTEMPTS it is `dead`: left to the provider's re-delivery or an operator's retry in the admin.
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=300)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
# Hours after its period end a self-renewing (Paddle) subscription may go without a renewal event before
# billing_tick asks the provider for its state (it stays live meanwhile).
BILLING_RENEWAL_WAIT_HOURS = env.float("BILLING_RENEWAL_WAIT_HOURS", default=6.0)
# Every payment-provider HTTP call gives up after this; billing transactions wait this long for a row lock.
PROVIDER_HTTP_TIMEOUT_SECONDS = env.float("PROVIDER_HTTP_TIMEOUT_SECONDS", default=15.0)
BILLING_LOCK_TIMEOUT_SECONDS = env.float("BILLING_LOCK_TIMEOUT_SECONDS", default=5.0)
# How long the confirmation token of a billing preview (POST /api/v1/billing/preview) stays valid.
BILLING_CONFIRMATION_MAX_AGE_SECONDS = env.int("BILLING_CONFIRMATION_MAX_AGE_SECONDS", default=900)
CONVERSATION_HISTORY_MESSAGES = env.int("CONVERSATION_HISTORY_MESSAGES", default=20)
# Upstream rounds of one answer when the model calls built-in tools (agents.tool_loop); the last one must answer.
TOOL_LOOP_MAX_ROUNDS = env.int("TOOL_LOOP_MAX_ROUNDS", default=4)
# The website widget (deployments.widget): messages per visitor and new visitors per address, per minute.
WIDGET_VISITOR_MESSAGES_PER_MINUTE = env.int("WIDGET_VISITOR_MESSAGES_PER_MINUTE", default=10)
WIDGET_NEW_VISITORS_PER_MINUTE = env.int("WIDGET_NEW_VISITORS_PER_MINUTE", default=20)
# Outgoing webhooks (webhooks app): never to private, loopback, link-local, multicast or reserved addresses,
# and https only, unless these allow it (development and tests, whose receivers are on 127.0.0.1). Each POST
# gives up after WEBHOOKS_TIMEOUT_SECONDS; a failed delivery is tried again WEBHOOKS_RETRY_BASE_SECONDS × 2ⁿ
# later (at most four hours apart), the last time WEBHOOKS_RETRY_HOURS after the event, then it is failed.
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=DEBUG)
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=DEBUG)
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
WEBHOOKS_RETRY_BASE_SECONDS = env.int("WEBHOOKS_RETRY_BASE_SECONDS", default=60)
WEBHOOKS_RETRY_HOURS = env.int("WEBHOOKS_RETRY_HOURS", default=24)
# Ended deliveries (and their attempts) are deleted this many days after the event (webhooks.prune_deliveries).
WEBHOOKS_DELIVERY_RETENTION_DAYS = env.int("WEBHOOKS_DELIVERY_RETENTION_DAYS", default=30)
DEFAULT_RATE_LIMIT_PER_MINUTE = env.int("DEFAULT_RATE_LIMIT_PER_MINUTE", default=0)
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
# LLM provider keys (agents.provider_keys): which env vars may hold one, and what decrypts stored ones.
LLM_KEY_ENV_ALLOWED = env.list("LLM_KEY_ENV_ALLOWED", default=[])
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY", default=[])
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="")
# The offline demo model streams its answer word by word, this many milliseconds apart.
DEMO_TOKEN_DELAY_MS = env.int("DEMO_TOKEN_DELAY_MS", default=30)
# A streamed answer sends an SSE comment when the model has been silent this long (proxies time out idle streams).
STREAM_KEEPALIVE_SECONDS = env.float("STREAM_KEEPALIVE_SECONDS", default=15.0)

# Billing (issue #5): payment providers, each enabled only when its variables are set.
BILLING_MANUAL_ENABLED = env.bool("BILLING_MANUAL_ENABLED", default=DEBUG)
# Who customers write to when no payment provider is enabled (the billing page names it).
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", default="")
PADDLE_API_KEY = env.str("PADDLE_API_KEY", default="")
PADDLE_WEBHOOK_SECRET = env.list("PADDLE_WEBHOOK_SECRET", default=[])
PADDLE_ENVIRONMENT = env.str("PADDLE_ENVIRONMENT", default="sandbox")
PADDLE_API_URL = env.str("PADDLE_API_URL", default="")
PADDLE_WEBHOOK_TOLERANCE_SECONDS = env.int("PADDLE_WEBHOOK_TOLERANCE_SECONDS", default=5)
# The Paddle SDK's webhook verifier skips its timestamp check when TEST_MODE is set: never in production.
if not DEBUG and "TEST_MODE" in os.environ:
    raise ImproperlyConfigured(
        "TEST_MODE must not be set when DEBUG is off: it disables Paddle's webhook timestamp check."
    )
YOOKASSA_SHOP_ID = env.str("YOOKASSA_SHOP_ID", default="")
YOOKASSA_SECRET_KEY = env.str("YOOKASSA_SECRET_KEY", default="")
YOOKASSA_API_URL = env.str("YOOKASSA_API_URL", default="")
YOOKASSA_TRUSTED_IPS = env.list(
    "YOOKASSA_TRUSTED_IPS",
    default=[
        "185.71.76.0/27",
        "185.71.77.0/27",
        "77.75.153.0/25",
        "77.75.156.11",
        "77.75.156.35",
        "77.75.154.128/25",
        "2a02:5180::/32",
    ],
)
YOOKASSA_RECEIPTS = env.bool("YOOKASSA_RECEIPTS", default=False)
YOOKASSA_VAT_CODE = env.int("YOOKASSA_VAT_CODE", default=1)

# Telegram channel (channels_tg): the bot token, the webhook secret Telegram echoes in
# X-Telegram-Bot-Api-Secret-Token, an optional self-hosted Bot API server, and voice limits.
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_WEBHOOK_SECRET = env.str("TELEGRAM_WEBHOOK_SECRET", default="")
TELEGRAM_API_SERVER = env.str("TELEGRAM_API_SERVER", default="")
TELEGRAM_VOICE_MAX_SECONDS = env.int("TELEGRAM_VOICE_MAX_SECONDS", default=120)
TELEGRAM_EDIT_INTERVAL_SECONDS = env.float("TELEGRAM_EDIT_INTERVAL_SECONDS", default=1.0)
TELEGRAM_ANSWER_DRAFTS = env.bool("TELEGRAM_ANSWER_DRAFTS", default=False)
TELEGRAM_VOICE_MAX_BYTES = env.int("TELEGRAM_VOICE_MAX_BYTES", default=2 * 1024 * 1024)
TELEGRAM_LOGIN_MAX_AGE_SECONDS = env.int("TELEGRAM_LOGIN_MAX_AGE_SECONDS", default=86400)
TELEGRAM_CHECKOUT_RETURN_URL = env.str("TELEGRAM_CHECKOUT_RETURN_URL", default="")

# Observability (botgeneric.metrics): GET /metrics answers only `Authorization: Bearer <METRICS_TOKEN>` (404
# otherwise, and always while it is empty). A Celery worker serves its own at CELERY_METRICS_HOST:PORT.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
CELERY_METRICS_HOST = env.str("CELERY_METRICS_HOST", default="0.0.0.0")  # noqa: S104 — a container's scrape target
CELERY_METRICS_PORT = env.int("CELERY_METRICS_PORT", default=9540)

# Logs: JSON lines (one object per line, with the request id and task id) unless DEBUG; LOG_FORMAT=text for
# plain lines (tests and development default to them).
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = logging_settings(log_format=LOG_FORMAT, level=LOG_LEVEL)

# Errors to Sentry (botgeneric.error_reporting) when SENTRY_DSN is set; no personal data is sent.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
init_sentry(
    dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, release=SENTRY_RELEASE, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE
)
