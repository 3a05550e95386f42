FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only-$(python -c 'import secrets;print(secrets.token_urlsafe(64))') \
    python manage.py compile_translations && \
    SECRET_KEY=build-only-$(python -c 'import secrets;print(secrets.token_urlsafe(64))') \
    python manage.py collectstatic --noinput --verbosity 0
RUN useradd --create-home app && chown -R app /app
USER app
EXPOSE 8000
# ASGI (uvicorn workers): streamed answers hold no thread; database connections pooled, not kept per thread.
ENV CONN_MAX_AGE=0 DATABASE_POOL_MAX_SIZE=20
CMD ["gunicorn", "botgeneric.asgi:application", "--bind", "0.0.0.0:8000", "--worker-class", "uvicorn_worker.UvicornWorker", "--workers", "2"]
