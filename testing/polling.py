"""Waiting in tests for something another thread or process does (a server, a worker, a stream)."""

import time


def wait_for(condition, timeout: float = 10.0, interval: float = 0.02):
    """Poll until `condition()` is truthy and return it; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval)
    raise AssertionError(f"not there after {timeout} s: {getattr(condition, '__name__', condition)}")
