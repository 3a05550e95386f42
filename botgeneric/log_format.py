"""The LOGGING setting: one console handler, plain text or JSON lines (python-json-logger).

Every record gets `request_id` (the request being handled, "-" outside one) and `task_id` (the Celery
task being run, inline ones too; "-" outside one) from botgeneric.request_id's filter. The servers' own
loggers (uvicorn's access and error lines under gunicorn) go through the same handler, so in JSON mode
every line a worker writes is one JSON object.
"""

from django.core.exceptions import ImproperlyConfigured

FORMATS = ("json", "text")
#: Loggers that have handlers of their own (uvicorn's under gunicorn, Django's DEFAULT_LOGGING): ours instead.
OWN_HANDLERS = ("django", "uvicorn.access", "uvicorn.error")


def logging_settings(*, log_format: str, level: str) -> dict:
    if log_format not in FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}.")
    console = {"handlers": ["console"], "level": level}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
        },
        "filters": {"request_id": {"()": "botgeneric.request_id.RequestIdFilter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["request_id"]},
        },
        "root": console,
        "loggers": {name: {**console, "propagate": False} for name in OWN_HANDLERS},
    }
