"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and they catch what they name.

CI runs only `make test`, so the contracts are checked here as well as by `make lint`.
"""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from django.apps import apps
from django.conf import settings

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONFIG = tomllib.loads((settings.BASE_DIR / "pyproject.toml").read_text())["tool"]["importlinter"]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", "pyproject.toml"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_are_kept():
    result = _lint_imports(settings.BASE_DIR)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONFIG['contracts'])} kept, 0 broken." in result.stdout


def test_every_project_app_is_under_the_contracts():
    project_apps = {
        config.name.split(".")[0]
        for config in apps.get_app_configs()
        if Path(config.path).parent == Path(settings.BASE_DIR)
    }

    assert project_apps <= set(CONFIG["root_packages"])


def test_each_contract_catches_an_import_that_breaks_it(tmp_path):
    for package in CONFIG["root_packages"]:
        shutil.copytree(settings.BASE_DIR / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(settings.BASE_DIR / "pyproject.toml", tmp_path)
    planted = {
        "prompts/rendering.py": "import usage.models",  # reached by agents.runtime
        "billing/selectors.py": "from agents import api",
        "billing/providers/base.py": "from billing import services",
        "policy/selectors.py": "from channels_tg import texts",
        "usage/selectors.py": "from policy import services",
    }
    for path, line in planted.items():
        with open(tmp_path / path, "a") as module:
            module.write(f"\n{line}\n")

    result = _lint_imports(tmp_path)

    assert result.returncode == 1
    assert f"Contracts: 0 kept, {len(CONFIG['contracts'])} broken." in result.stdout, result.stdout
    assert "agents.runtime is not allowed to import usage" in result.stdout
    assert "billing.selectors -> agents.api" in result.stdout
    assert "billing.providers is not allowed to import billing.services" in result.stdout
    assert "policy is not allowed to import channels_tg" in result.stdout
    assert "usage.selectors -> policy.services" in result.stdout
