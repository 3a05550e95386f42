"""The project's settings with the benchmark's floor view appended to its URLconf (bench/floor.py)."""

from botgeneric.settings.base import *  # noqa: F403  (the project's settings, unchanged)

ROOT_URLCONF = "bench.floor"
