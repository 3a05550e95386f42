# Two stages: `build` installs the requirements into a virtualenv and prepares translations and static
# files; the runtime stage copies only those, owned by root and read-only to the non-root `app` user.
# Every setting comes from the environment at run time (docker-compose.yml, README "Deploy").
FROM python:3.11-slim AS build
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install -r /tmp/requirements.txt
WORKDIR /app
COPY . .
# A throwaway key: these commands need settings, not secrets.
RUN export SECRET_KEY="build-only-$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" && \
    /venv/bin/python manage.py compile_translations && \
    /venv/bin/python manage.py collectstatic --noinput --verbosity 0

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/venv/bin:$PATH
RUN useradd --create-home --uid 10001 app
COPY --from=build /venv /venv
COPY --from=build /app /app
WORKDIR /app
USER app
EXPOSE 8000
# ASGI (uvicorn workers): streamed answers hold no thread; database connections pooled, not kept per thread.
ENV CONN_MAX_AGE=0 DATABASE_POOL_MAX_SIZE=20 CELERY_BEAT_SCHEDULE_FILENAME=/tmp/celerybeat-schedule
CMD ["gunicorn", "botgeneric.asgi:application", "--bind", "0.0.0.0:8000", "--worker-class", "uvicorn_worker.UvicornWorker", "--workers", "2", "--access-logfile", "-"]
