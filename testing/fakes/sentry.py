"""A fake Sentry on 127.0.0.1: takes what sentry-sdk sends to `POST /api/<project>/envelope/` (the
envelope protocol: a JSON header line, then for each item a JSON header line and its payload, the body
gzip-compressed or not) and keeps each envelope's items and the request's HTTP headers.

`FakeSentry().start()`; `.dsn` to give sentry_sdk.init; `.events` the error events received;
`.requests` the (path, headers) of each request.
"""

import gzip
import json
import threading
from http.server import ThreadingHTTPServer

from testing.fakes.json_http import JsonRequestHandler

PUBLIC_KEY = "0123456789abcdef0123456789abcdef"
PROJECT = "42"


def parse_envelope(body: bytes) -> list[tuple[dict, bytes]]:
    """The items of an envelope: (item header, payload). A payload's length is in its header, or it
    runs to the end of its line."""
    header_line, _, rest = body.partition(b"\n")
    json.loads(header_line)
    items = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        item = json.loads(item_line)
        if "length" in item:
            payload, rest = rest[: item["length"]], rest[item["length"] :].removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item, payload))
    return items


class FakeSentry:
    def __init__(self):
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.items: list[tuple[dict, bytes]] = []
        self.received = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        port = self._server.server_address[1]
        self.dsn = f"http://{PUBLIC_KEY}@127.0.0.1:{port}/{PROJECT}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def events(self) -> list[dict]:
        return [json.loads(payload) for item, payload in self.items if item.get("type") == "event"]

    def wait_for_event(self, timeout: float = 10) -> dict:
        with self.received:
            self.received.wait_for(lambda: self.events, timeout=timeout)
        assert self.events, "no event reached the fake Sentry"
        return self.events[0]

    def start(self) -> "FakeSentry":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(JsonRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                elif self.headers.get("Content-Encoding"):
                    self._reply(415, {"detail": "unsupported encoding"})
                    return
                if self.path != f"/api/{PROJECT}/envelope/":
                    self._reply(404, {"detail": "not found"})
                    return
                with fake.received:
                    fake.requests.append((self.path, dict(self.headers.items())))
                    fake.items.extend(parse_envelope(body))
                    fake.received.notify_all()
                self._reply(200, {"id": "0" * 32})

        return Handler
