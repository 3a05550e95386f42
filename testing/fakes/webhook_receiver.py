"""A customer's webhook receiver on 127.0.0.1: records every POST (headers and raw body) and answers the
statuses a test scripts (`answers`, one per request, then `default_status`), e.g. two 500s then 200."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


class FakeReceiver:
    def __init__(self):
        self.received: list[ReceivedRequest] = []
        self.answers: list[int] = []
        self.default_status = 200
        self.answer_body = b'{"received": true}'
        #: Set: every answer is a 302 to this location (a receiver that redirects).
        self.redirect_to = ""
        #: Seconds each answer waits (a receiver that hangs); stopping the fake ends the wait.
        self.delay_seconds = 0.0
        #: Run in the server thread before each answer (a test changes the app's data mid-delivery).
        self.before_answer: Callable[[], None] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> "FakeReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def _next_status(self) -> int:
        with self._lock:
            return self.answers.pop(0) if self.answers else self.default_status

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(ReceivedRequest(self.path, dict(self.headers.items()), body))
                if receiver.before_answer is not None:
                    receiver.before_answer()
                if receiver.delay_seconds:
                    receiver._stopping.wait(receiver.delay_seconds)
                status = 302 if receiver.redirect_to else receiver._next_status()
                self.send_response(status)
                if receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(receiver.answer_body)))
                self.end_headers()
                self.wfile.write(receiver.answer_body)

        return Handler
