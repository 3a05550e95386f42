"""What the fake provider APIs share: a quiet request handler that answers JSON, and the controls
tests steer a fake with (a hook run before each answer, a hang)."""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler


class FakeControls:
    """`before_answer(method, path)` runs in the server thread before each answer (tests look at the
    app's database session from there); `hang_seconds` delays every answer, as a provider that hangs
    would (stopping the fake ends the wait)."""

    def __init__(self):
        self.before_answer: Callable[[str, str], None] | None = None
        self.hang_seconds = 0.0
        self._stopping = threading.Event()

    def pause(self, method: str, path: str) -> None:
        if self.before_answer is not None:
            self.before_answer(method, path)
        if self.hang_seconds:
            self._stopping.wait(self.hang_seconds)

    def release(self) -> None:
        self._stopping.set()


class JsonRequestHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _reply(self, status: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)
