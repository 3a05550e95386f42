"""bot-generic's project package. The Celery app is loaded with Django so that tasks bind to it."""

from botgeneric.celery import app as celery_app

__all__ = ["celery_app"]
