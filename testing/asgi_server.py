"""A live ASGI server for tests: the project's ASGI application under uvicorn (as `make run` serves it),
on 127.0.0.1 in a background thread. Streaming, disconnects and async views behave as in production.

It serves `botgeneric.asgi.application`, what `make run` serves. Each request's database work runs in a
thread of its own (a reused one, `botgeneric.request_threads`), with its own connection; the server
closes those at the end of each request (CONN_MAX_AGE 0 while it runs) and ends its idle threads when it
stops, so the test database can be dropped afterwards.
"""

import asyncio
import socket
import threading

import uvicorn
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connections

from botgeneric import asgi


class LiveASGIServer:
    def __init__(self, host: str = "127.0.0.1"):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.host, self.port = self._socket.getsockname()
        config = uvicorn.Config(
            ASGIStaticFilesHandler(asgi.application),
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self._conn_max_age: dict[str, int | None] = {}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "LiveASGIServer":
        for alias in connections:
            self._conn_max_age[alias] = connections.settings[alias].get("CONN_MAX_AGE")
            connections.settings[alias]["CONN_MAX_AGE"] = 0
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._server.serve(sockets=[self._socket]),), name="live-asgi", daemon=True
        )
        self._thread.start()
        for _ in range(200):
            if self._server.started:
                return self
            self._thread.join(timeout=0.05)
        raise RuntimeError("the live ASGI server did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        asgi.request_threads.close()
        self._socket.close()
        for alias, max_age in self._conn_max_age.items():
            connections.settings[alias]["CONN_MAX_AGE"] = max_age
