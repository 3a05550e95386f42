"""A fake OpenAI-compatible upstream on 127.0.0.1 that speaks the real wire protocol.

The real `openai` SDK talks to it over HTTP in tests and in the benchmark. It is an aiohttp server
(one event loop in a background thread) so hundreds of concurrent connections cost nothing.

Endpoints: POST /v1/chat/completions, GET /v1/models, POST /v1/audio/transcriptions (multipart).

Failure modes, per server (`server.mode = "fail_500" | "timeout" | "malformed" | "empty"`) or per
request by a magic word in the last user message: FAIL_500, FAIL_TIMEOUT, FAIL_MALFORMED, FAIL_EMPTY.
`REPLY_CHARS=<n>` in the last user message (or `server.reply_chars`) pads the answer to n characters.
Every request received is recorded in `server.requests` (method, path, headers, json body).

Command line: `python -m testing.fakes.openai_upstream --port 9100 --latency-ms 500`.
"""

import argparse
import asyncio
import contextlib
import logging
import re
import threading
import time
import uuid

from aiohttp import web

logger = logging.getLogger(__name__)

MODES = ("ok", "fail_500", "timeout", "malformed", "empty")
MAGIC_MODES = {"FAIL_500": "fail_500", "FAIL_TIMEOUT": "timeout", "FAIL_MALFORMED": "malformed", "FAIL_EMPTY": "empty"}
REPLY_CHARS = re.compile(r"REPLY_CHARS=(\d+)")
HANG_SECONDS = 60.0


def _tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


class FakeOpenAI:
    """Start with `start()` (returns self), stop with `stop()`; `base_url` ends in /v1 like the real one."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: int = 0,
        mode: str = "ok",
        reply_chars: int = 0,
        record: bool = True,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.host = host
        self.port = port
        self.latency_ms = latency_ms
        self.mode = mode
        self.reply_chars = reply_chars
        self.record = record
        self.requests: list[dict] = []
        self._record_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def chat_requests(self) -> list[dict]:
        return [request for request in self.requests if request["path"] == "/v1/chat/completions"]

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/audio/transcriptions", self._transcriptions)
        return app

    def _record(self, request: web.Request, body) -> None:
        if not self.record:
            return
        with self._record_lock:
            self.requests.append(
                {"method": request.method, "path": request.path, "headers": dict(request.headers), "json": body}
            )

    async def _delay(self) -> None:
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)

    async def _hang(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=HANG_SECONDS)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response(
                {"error": {"message": "body is not JSON", "type": "invalid_request_error"}}, status=400
            )
        self._record(request, body)
        messages = body.get("messages") or []
        user_messages = [m for m in messages if m.get("role") == "user"]
        last_user = str(user_messages[-1].get("content", "")) if user_messages else ""
        mode = next((name for word, name in MAGIC_MODES.items() if word in last_user), self.mode)
        await self._delay()
        if mode == "fail_500":
            return web.json_response({"error": {"message": "upstream exploded", "type": "server_error"}}, status=500)
        if mode == "timeout":
            await self._hang()
            return web.json_response({"error": {"message": "too late", "type": "server_error"}}, status=504)
        if mode == "malformed":
            return web.Response(text='{"id": "chatcmpl-broken", "choices": [', content_type="application/json")
        match = REPLY_CHARS.search(last_user)
        reply_chars = int(match.group(1)) if match else self.reply_chars
        reply = f"echo: {last_user[:200]}"
        if reply_chars > len(reply):
            reply = (reply + " " + "lorem ipsum " * (reply_chars // 12 + 1))[:reply_chars]
        prompt_tokens = sum(_tokens(str(m.get("content", ""))) for m in messages)
        completion_tokens = _tokens(reply)
        choices = (
            []
            if mode == "empty"
            else [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ]
        )
        return web.json_response(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake-model"),
                "choices": choices,
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    async def _models(self, request: web.Request) -> web.Response:
        self._record(request, None)
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"id": "gpt-4o-mini", "object": "model", "created": 0, "owned_by": "fake"},
                    {"id": "whisper-1", "object": "model", "created": 0, "owned_by": "fake"},
                ],
            }
        )

    async def _transcriptions(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        size = len(upload.file.read()) if hasattr(upload, "file") else 0
        self._record(request, {"model": form.get("model"), "file_bytes": size})
        await self._delay()
        if self.mode == "fail_500":
            return web.json_response({"error": {"message": "upstream exploded", "type": "server_error"}}, status=500)
        return web.json_response({"text": f"transcript of {size} bytes"})

    async def _serve(self, started: threading.Event) -> None:
        self._stopping = asyncio.Event()
        self._runner = web.AppRunner(self._app(), access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=2048)
        await site.start()
        self.port = self._runner.addresses[0][1]
        started.set()
        await self._stopping.wait()
        await self._runner.cleanup()

    def start(self) -> "FakeOpenAI":
        started = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(self._serve(started),), name="fake-openai", daemon=True
        )
        self._thread.start()
        if not started.wait(timeout=10):
            raise RuntimeError("fake OpenAI server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout=10)
            self._loop.close()
            self._loop = None

    def wait(self) -> None:
        """Block until the server stops (the command line runs until Ctrl-C)."""
        self._thread.join()

    def reset(self) -> None:
        with self._record_lock:
            self.requests.clear()
        self.mode = "ok"
        self.latency_ms = 0
        self.reply_chars = 0


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible upstream for tests and benchmarks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--mode", choices=MODES, default="ok")
    parser.add_argument("--reply-chars", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = FakeOpenAI(
        host=args.host,
        port=args.port,
        latency_ms=args.latency_ms,
        mode=args.mode,
        reply_chars=args.reply_chars,
        record=False,
    ).start()
    logger.info("fake OpenAI upstream at %s (latency %d ms, mode %s)", server.base_url, args.latency_ms, args.mode)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
