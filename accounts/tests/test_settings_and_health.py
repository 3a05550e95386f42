import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from botgeneric.settings.base import validate_secret_key

ROOT = Path(__file__).resolve().parents[2]


def _start_django(**env):
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "TEST_MODE")}
    environment.update(env, DJANGO_SETTINGS_MODULE="botgeneric.settings.base")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("key", ["", "django-insecure-abc", "short-key", "a" * 60])
def test_production_settings_refuse_insecure_secret_key(key, tmp_path):
    result = _start_django(DEBUG="0", SECRET_KEY=key)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_settings_start_with_a_strong_key():
    result = _start_django(DEBUG="0", SECRET_KEY="Zx9" + "q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6j7K8l9" * 2)
    assert result.returncode == 0, result.stderr


def test_production_settings_refuse_paddle_sdk_test_mode():
    result = _start_django(DEBUG="0", SECRET_KEY="Zx9" + "q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6j7K8l9" * 2, TEST_MODE="1")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "TEST_MODE" in result.stderr


def test_check_deploy_is_clean_for_production_settings():
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "HTTPS_ONLY")}
    environment.update(
        DJANGO_SETTINGS_MODULE="botgeneric.settings.base",
        DEBUG="0",
        HTTPS_ONLY="1",
        SECRET_KEY="Zx9" + "q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6j7K8l9" * 2,
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_debug_allows_a_missing_key():
    assert validate_secret_key("", debug=True)


@pytest.mark.django_db
def test_healthz_answers_ok_after_a_database_round_trip(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_unreachable(client, monkeypatch):
    from django.db.utils import OperationalError

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503


def test_openapi_schema_generates_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", os.devnull],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "botgeneric.settings.test"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_swagger_ui_and_schema_are_served(client):
    assert client.get("/api/v1/schema/").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 200
