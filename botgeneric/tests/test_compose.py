"""The deployable stack, checked without a Docker engine: docker-compose.yml parses, runs every process
the README's "Deploy" section names with commands that exist (the Makefile's and manage.py's), has
health checks, seeds demo data only in the `demo` profile and takes its settings from the environment;
the Dockerfile is multi-stage, collects static files and runs as a non-root user (issue 16 item 3)."""

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = {name: service for name, service in SERVICES.items() if "build" in service}
MAKEFILE = (ROOT / "Makefile").read_text().replace("\\\n", " ")  # recipe lines joined
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _documented_variables() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z][A-Z0-9_]*=", line)}


def _makefile_option(program: str, option: str) -> str:
    """The value the Makefile passes to `program` for `option` (e.g. gunicorn's --worker-class)."""
    [value] = re.findall(rf"bin/{program} [^;]*{option} (\S+)", MAKEFILE)
    return value


def assert_command_exists(command: list[str]) -> None:
    """A compose or Dockerfile command must be one the project runs itself."""
    program, arguments = command[0], command[1:]
    if program == "python":
        assert arguments[0] == "manage.py" and arguments[1] in get_commands(), command
    elif program == "celery":
        assert arguments[:2] == ["-A", "botgeneric"], command
        assert re.search(rf"bin/celery -A botgeneric {arguments[2]}\b", MAKEFILE), f"no `make` target runs {command}"
    elif program == "gunicorn":
        assert arguments[0] == "botgeneric.asgi:application", command  # what `make run` serves
        assert re.search(r"bin/gunicorn botgeneric\.asgi:application", MAKEFILE)
        worker_class = arguments[arguments.index("--worker-class") + 1]
        assert worker_class == _makefile_option("gunicorn", "--worker-class"), command
    else:
        pytest.fail(f"{command}: neither manage.py, celery nor gunicorn")


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_each_app_service_runs_a_command_that_exists(name):
    assert_command_exists(shlex.split(APP_SERVICES[name]["command"]))


def test_the_dockerfile_serves_what_the_web_service_serves():
    [cmd] = re.findall(r"^CMD (\[.*\])$", DOCKERFILE, flags=re.MULTILINE)
    command = json.loads(cmd)

    assert_command_exists(command)
    assert command == shlex.split(SERVICES["web"]["command"])


def test_every_process_of_the_stack_is_a_service():
    assert {"db", "redis", "rabbitmq", "migrate", "web", "worker", "beat", "bot", "demo"} <= set(SERVICES)
    assert "celery -A botgeneric worker" in SERVICES["worker"]["command"]
    assert "celery -A botgeneric beat" in SERVICES["beat"]["command"]
    assert "run_telegram_bot" in SERVICES["bot"]["command"]


def test_services_that_others_wait_for_have_health_checks():
    for name in ("db", "redis", "rabbitmq", "web", "worker"):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert "/readyz" in str(SERVICES["web"]["healthcheck"]["test"])


def test_app_processes_start_after_migrations_and_healthy_redis_and_rabbitmq():
    for name in ("web", "worker", "beat", "bot"):
        depends_on = SERVICES[name]["depends_on"]
        assert depends_on["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends_on["redis"] == depends_on["rabbitmq"] == {"condition": "service_healthy"}, name


def test_only_the_demo_profile_runs_seed_demo():
    seeding = {name: service for name, service in SERVICES.items() if "seed_demo" in str(service.get("command"))}

    assert seeding, "the demo profile should still offer seed_demo"
    assert all(service.get("profiles") == ["demo"] for service in seeding.values())


def test_app_settings_come_only_from_the_environment():
    documented = _documented_variables()
    for name, service in APP_SERVICES.items():
        assert set(service.get("environment", {})) <= documented, name
        assert "SECRET_KEY" not in service.get("environment", {}), name
        assert not service.get("volumes"), f"{name} must not mount code or settings"
        env_files = [entry["path"] if isinstance(entry, dict) else entry for entry in service["env_file"]]
        assert env_files == [".env"], name
    for name, service in APP_SERVICES.items():
        for value in service.get("environment", {}).values():
            assert value.startswith("${") or value.startswith("/"), f"{name}: {value} is not read from the environment"


def test_the_dockerfile_is_multi_stage_collects_static_files_and_runs_as_a_non_root_user():
    stages = re.findall(r"^FROM ", DOCKERFILE, flags=re.MULTILINE)
    final_stage = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    users = re.findall(r"^USER (\S+)", final_stage, flags=re.MULTILINE)

    assert len(stages) >= 2
    assert "collectstatic --noinput" in DOCKERFILE
    assert "COPY --from=build" in final_stage
    assert users and users[-1] not in ("root", "0")
