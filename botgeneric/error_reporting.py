"""Errors to Sentry when SENTRY_DSN is set (sentry-sdk with its Django and Celery integrations); nothing
at all otherwise (the SDK is not even imported).

No personal data and no secrets: `send_default_pii=False`, so events carry no cookies, no Authorization
header, no user e-mail or IP address; the SDK's scrubber blanks fields named like secrets (password,
token, key...) at any depth; and frames carry no local variables (a request's raw ASGI headers, an API
key or a prompt could be among them). Unhandled errors in views and tasks are sent, and so are log
records at ERROR.
"""


def init_sentry(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> None:
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import EventScrubber

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        send_default_pii=False,
        include_local_variables=False,
        event_scrubber=EventScrubber(recursive=True),
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
