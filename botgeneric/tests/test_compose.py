"""Issue 11 item 17: `docker compose up` never seeds demo data (an operator login with a printed password)."""

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def _services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_only_the_demo_profile_runs_seed_demo():
    seeding = {name: service for name, service in _services().items() if "seed_demo" in str(service.get("command"))}

    assert seeding, "the demo profile should still offer seed_demo"
    assert all(service.get("profiles") == ["demo"] for service in seeding.values())


def test_web_and_bot_start_after_migrations_without_seeding():
    services = _services()

    for name in ("web", "bot"):
        assert "seed_demo" not in str(services[name]["command"])
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
