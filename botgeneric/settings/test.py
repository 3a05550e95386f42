"""Test settings: the base settings with a fixed key and fast hashing."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-" + "k3y" * 20)
os.environ.setdefault("HTTPS_ONLY", "0")
os.environ.setdefault("BILLING_MANUAL_ENABLED", "1")
os.environ.setdefault("DEMO_TOKEN_DELAY_MS", "0")
# Tests' webhook receivers listen on http://127.0.0.1; the SSRF tests turn the guard back on.
os.environ.setdefault("WEBHOOKS_ALLOW_PRIVATE", "1")
os.environ.setdefault("WEBHOOKS_ALLOW_HTTP", "1")
os.environ.setdefault("LOG_FORMAT", "text")

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
LOGGING = logging_settings(log_format=LOG_FORMAT, level="WARNING")  # noqa: F405
STORAGES["exports"]["OPTIONS"]["location"] = tempfile.mkdtemp(prefix="bg-exports-")  # noqa: F405
