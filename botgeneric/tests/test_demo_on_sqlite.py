"""`make run`'s default database is SQLite, which the rest of the suite never touches: migrate, seed the
demo and serve the API from gunicorn with the project's own settings on a fresh SQLite file, then sign
in as the demo customer and call an agent every way the API offers (JSON, SSE, the OpenAI endpoint)."""

import os
import subprocess
import sys

import pytest
import requests

from testing.app_servers import NOT_INHERITED, ROOT, start_app_servers, stop_app_servers

PASSWORD = "demo-password-for-the-sqlite-test"


@pytest.fixture
def demo_server(tmp_path):
    environment = {
        "DJANGO_SETTINGS_MODULE": "botgeneric.settings.base",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SECRET_KEY": "sqlite-demo-test-" + "x" * 40,
        "HTTPS_ONLY": "0",
        "BILLING_MANUAL_ENABLED": "1",
        "DEMO_PASSWORD": PASSWORD,
        "DEMO_TOKEN_DELAY_MS": "1",
        "EXPORTS_DIR": str(tmp_path / "exports"),
        "REQUIRE_POSTGRES": "0",
    }
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env={**{k: v for k, v in os.environ.items() if k not in NOT_INHERITED}, **environment},
            check=True,
            capture_output=True,
            timeout=300,
        )
    servers = start_app_servers(1, environment)
    yield servers[0][1]
    stop_app_servers(servers)


def test_the_demo_customer_calls_an_agent_over_the_api_on_sqlite(demo_server):
    login = requests.post(
        f"{demo_server}/api/v1/auth/login",
        json={"email": "demo@example.com", "password": PASSWORD},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access']}"}
    agents = requests.get(f"{demo_server}/api/v1/agents", headers=headers, timeout=30).json()["results"]
    assert agents, "the demo customer's plan offers agents"
    agent = agents[0]

    answer = requests.post(
        f"{demo_server}/api/v1/agents/{agent['id']}/invoke", json={"input": "Hello"}, headers=headers, timeout=60
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["output"]

    with requests.post(
        f"{demo_server}/api/v1/agents/{agent['id']}/invoke",
        json={"input": "Hello again", "stream": True},
        headers=headers,
        stream=True,
        timeout=60,
    ) as streamed:
        assert streamed.status_code == 200
        lines = list(streamed.iter_lines(decode_unicode=True))
    events = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    assert events[0] == "delta" and events[-1] == "done", lines

    key = requests.post(f"{demo_server}/api/v1/api-keys", json={"name": "sqlite"}, headers=headers, timeout=30)
    assert key.status_code == 201, key.text
    completion = requests.post(
        f"{demo_server}/api/v1/openai/chat/completions",
        json={"model": agent["slug"], "messages": [{"role": "user", "content": "Hi"}]},
        headers={"Authorization": f"Bearer {key.json()['key']}"},
        timeout=60,
    )
    assert completion.status_code == 200, completion.text
    assert completion.json()["choices"][0]["message"]["content"]

    usage = requests.get(f"{demo_server}/api/v1/billing/usage", headers=headers, timeout=30)
    assert usage.status_code == 200, usage.text
    requests_used = {row["metric"]: row["used"] for row in usage.json()["metrics"]}["requests"]
    assert requests_used == 3, usage.json()
