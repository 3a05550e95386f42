"""gunicorn hooks for the benchmark: load everything once in the master, before the workers fork.

With `--preload` the master imports the WSGI app, but Django imports the URLconf (and through
`channels_tg.urls`, all of aiogram's pydantic models) only on the first request — in every worker, with
every thread of it waiting on the import lock. Importing it here makes the forks start warm.
"""


def when_ready(server):
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (the attribute access is the import)
