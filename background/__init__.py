"""Background work on Celery: the task base class (retries with backoff, dead letters), the queue
helpers, the e-mail backend that sends through a task, and the dead-letter rows operators see."""
