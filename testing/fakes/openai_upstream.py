"""A fake OpenAI-compatible upstream on 127.0.0.1 that speaks the real wire protocol.

The real `openai` SDK talks to it over HTTP in tests and in the benchmark. It is an aiohttp server
(one event loop in a background thread) so hundreds of concurrent connections cost nothing.

Endpoints: POST /v1/chat/completions (`stream: true` answers Server-Sent Events, word by word, like
OpenAI), GET /v1/models, POST /v1/audio/transcriptions (multipart). The answer honours `max_tokens`.

Failure modes, per server (`server.mode = "fail_500" | "timeout" | "malformed" | "empty" | "fail_midstream"
| "hang_stream" | "hang_after_done"`) or per request by a magic word in the last user message: FAIL_500,
FAIL_TIMEOUT, FAIL_MALFORMED, FAIL_EMPTY, FAIL_MIDSTREAM (a stream drops its connection after
`fail_after_tokens` words), HANG_STREAM (a stream sends its headers and role chunk, then nothing),
HANG_AFTER_DONE (a whole stream, `[DONE]` included, then its body stays open).
`REPLY_CHARS=<n>` in the last user message (or `server.reply_chars`) pads the answer to n characters;
REPLY_WITH_NUL puts NUL characters in the answer.
Streams: `server.token_delay_ms` between words (`TOKEN_DELAY_MS=<n>` per request), the usage chunk when
the request asks for it and `server.stream_usage` is on, `server.pause(n)` holds every stream after n
words until `server.release()` (`wait_paused()` blocks until one is held). Each stream's end is in
`server.streams` (words sent, whether the client closed it, when); `wait_closed()` blocks until a client
has closed one.
Every request received is recorded in `server.requests` (method, path, headers, json body);
`server.connections_accepted` counts the TCP connections accepted, `server.open_connections` those still open.
Tools: a request with `tools` (and `tool_choice` not "none") whose last message is not a tool result is
answered with one call of the chosen (else the first) tool, its arguments a sample of the tool's JSON
schema, `finish_reason: "tool_calls"` (streamed in two argument fragments); after a tool result the
answer is `echo: <the tool's output>`. `response_format` json_object answers `{"echo": <last user>}`,
json_schema a sample of the schema.

Command line: `python -m testing.fakes.openai_upstream --port 9100 --latency-ms 500 --token-delay-ms 30`.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import re
import threading
import time
import uuid

from aiohttp import web

logger = logging.getLogger(__name__)

MODES = ("ok", "fail_500", "timeout", "malformed", "empty", "fail_midstream", "hang_stream", "hang_after_done")
MAGIC_MODES = {
    "FAIL_500": "fail_500",
    "FAIL_TIMEOUT": "timeout",
    "FAIL_MALFORMED": "malformed",
    "FAIL_EMPTY": "empty",
    "FAIL_MIDSTREAM": "fail_midstream",
    "HANG_STREAM": "hang_stream",
    "HANG_AFTER_DONE": "hang_after_done",
}
REPLY_CHARS = re.compile(r"REPLY_CHARS=(\d+)")
TOKEN_DELAY_MS = re.compile(r"TOKEN_DELAY_MS=(\d+)")
WORD = re.compile(r"\S+\s*")
HANG_SECONDS = 60.0


def _tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


def _sample(schema: dict, name: str = "value"):
    """A value that satisfies a simple JSON schema: enough for clients that parse tool arguments or
    structured output."""
    kind = schema.get("type")
    if schema.get("examples"):
        return schema["examples"][0]
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        return {key: _sample(sub, key) for key, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_sample(schema.get("items") or {}, name)]
    return {"integer": 1, "number": 1.5, "boolean": True, "null": None}.get(kind, f"sample {name}")


def _tool_calls(body: dict) -> list[dict]:
    """One call of the chosen (else first) tool, unless tools are off or the last message is a tool result."""
    tools = [tool for tool in body.get("tools") or [] if tool.get("type") == "function"]
    choice = body.get("tool_choice")
    messages = body.get("messages") or []
    if not tools or choice == "none" or (messages and messages[-1].get("role") == "tool"):
        return []
    chosen = tools[0]["function"]
    if isinstance(choice, dict):
        named = (choice.get("function") or {}).get("name")
        chosen = next((tool["function"] for tool in tools if tool["function"]["name"] == named), chosen)
    arguments = json.dumps(_sample(chosen.get("parameters") or {}))
    call_id = f"call_{uuid.uuid4().hex[:24]}"
    return [{"id": call_id, "type": "function", "function": {"name": chosen["name"], "arguments": arguments}}]


def _formatted(response_format, last_user: str) -> str:
    """The answer under `response_format`: JSON, or "" for plain text."""
    kind = (response_format or {}).get("type")
    if kind == "json_object":
        return json.dumps({"echo": last_user[:200]})
    if kind == "json_schema":
        return json.dumps(_sample((response_format.get("json_schema") or {}).get("schema") or {}))
    return ""


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
        token_delay_ms: int = 0,
        record: bool = True,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.host = host
        self.port = port
        self.latency_ms = latency_ms
        self.mode = mode
        self.reply_chars = reply_chars
        self.token_delay_ms = token_delay_ms
        self.stream_usage = True
        self.fail_after_tokens = 3
        self.pause_after: int | None = None
        self.record = record
        self.requests: list[dict] = []
        self.connections_accepted = 0
        self.streams: list[dict] = []
        self._record_lock = threading.Lock()
        self._paused = threading.Event()
        self._closed = threading.Event()
        self._released: asyncio.Event | None = None
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

    def pause(self, after: int) -> None:
        """Hold every stream after `after` words until `release()`."""
        if self._loop is not None and self._released is not None:
            asyncio.run_coroutine_threadsafe(self._clear_released(), self._loop).result(timeout=5)
        self._paused.clear()
        self.pause_after = after

    async def _clear_released(self) -> None:
        self._released.clear()

    def release(self) -> None:
        """Let every stream held by `pause_after` go on (and later ones pass)."""
        self.pause_after = None
        self._paused.clear()
        if self._loop is not None and self._released is not None:
            self._loop.call_soon_threadsafe(self._released.set)

    def wait_paused(self, timeout: float = 10.0) -> bool:
        return self._paused.wait(timeout)

    def wait_closed(self, timeout: float = 10.0) -> bool:
        return self._closed.wait(timeout)

    @property
    def open_connections(self) -> int:
        """TCP connections from clients still open (idle ones in a client's pool included)."""
        return len(self._runner.server.connections) if self._runner is not None else 0

    @property
    def closed_streams(self) -> list[dict]:
        return [stream for stream in self.streams if stream["closed_by_client"]]

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
        if "REPLY_WITH_NUL" in last_user:
            reply = reply.replace(" ", " \x00", 3)
        if messages and messages[-1].get("role") == "tool":
            reply = f"echo: {messages[-1].get('content')}"
        reply = _formatted(body.get("response_format"), last_user) or reply
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and max_tokens > 0:
            reply = reply[: max_tokens * 4 + 3]  # so that _tokens(reply) <= max_tokens
        tool_calls = _tool_calls(body)
        if tool_calls:
            reply = ""
        prompt_tokens = sum(_tokens(str(m.get("content", ""))) for m in messages)
        completion_tokens = _tokens(reply) + sum(_tokens(call["function"]["arguments"]) for call in tool_calls)
        if body.get("stream"):
            delay = TOKEN_DELAY_MS.search(last_user)
            return await self._stream(
                request,
                body,
                mode=mode,
                reply="" if mode == "empty" else reply,
                usage={
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
                token_delay_ms=int(delay.group(1)) if delay else self.token_delay_ms,
                tool_calls=tool_calls,
            )
        message = {"role": "assistant", "content": reply or None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        choices = (
            []
            if mode == "empty"
            else [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if tool_calls else "stop",
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

    async def _stream(
        self,
        request: web.Request,
        body: dict,
        *,
        mode: str,
        reply: str,
        usage: dict,
        token_delay_ms: int,
        tool_calls: list[dict] | None = None,
    ) -> web.StreamResponse:
        """The answer as `chat.completion.chunk` events, one word each, then `[DONE]` (OpenAI's wire format)."""
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
        }

        def event(delta: dict, finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
            return f"data: {json.dumps({**base, 'choices': [choice]})}\n\n".encode()

        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        record = {"words_sent": 0, "closed_by_client": False, "ended_at": None, "completed": False}
        with self._record_lock:
            self.streams.append(record)
        try:
            await response.prepare(request)
            if mode == "malformed":
                await response.write(b'data: {"id": "chatcmpl-broken", "choices": [\n\n')
                return response
            await response.write(event({"role": "assistant", "content": ""}))
            if mode == "hang_stream":
                await self._hang()
                return response
            for word in WORD.findall(reply):
                if record["words_sent"] and token_delay_ms:
                    await asyncio.sleep(token_delay_ms / 1000)
                if self.pause_after is not None and record["words_sent"] >= self.pause_after:
                    self._paused.set()
                    await self._released.wait()
                if mode == "fail_midstream" and record["words_sent"] >= self.fail_after_tokens:
                    request.transport.abort()
                    return response
                await response.write(event({"content": word}))
                record["words_sent"] += 1
            for index, call in enumerate(tool_calls or []):
                arguments = call["function"]["arguments"]
                half = len(arguments) // 2
                first = {"index": index, "id": call["id"], "type": "function"}
                first["function"] = {"name": call["function"]["name"], "arguments": arguments[:half]}
                await response.write(event({"tool_calls": [first]}))
                rest = {"index": index, "function": {"arguments": arguments[half:]}}
                await response.write(event({"tool_calls": [rest]}))
            await response.write(event({}, "tool_calls" if tool_calls else "stop"))
            if self.stream_usage and (body.get("stream_options") or {}).get("include_usage"):
                await response.write(f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n".encode())
            await response.write(b"data: [DONE]\n\n")
            record["completed"] = True
            if mode == "hang_after_done":
                await self._hang()
            return response
        except (asyncio.CancelledError, ConnectionResetError):
            record["closed_by_client"] = True
            self._closed.set()
            raise
        finally:
            record["ended_at"] = time.monotonic()

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
        self._released = asyncio.Event()
        self._runner = web.AppRunner(self._app(), access_log=None, handler_cancellation=True)
        await self._runner.setup()
        handlers = self._runner.server

        def accept() -> web.RequestHandler:
            # A TCPSite's listener, with each accepted connection counted.
            self.connections_accepted += 1
            return handlers()

        listener = await asyncio.get_running_loop().create_server(
            accept, self.host, self.port, backlog=2048, reuse_address=True
        )
        self.port = listener.sockets[0].getsockname()[1]
        started.set()
        await self._stopping.wait()
        listener.close()
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
        self.release()
        with self._record_lock:
            self.requests.clear()
            self.streams.clear()
        self.connections_accepted = 0
        self._closed.clear()
        self.mode = "ok"
        self.latency_ms = 0
        self.reply_chars = 0
        self.token_delay_ms = 0
        self.stream_usage = True
        self.fail_after_tokens = 3


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible upstream for tests and benchmarks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--mode", choices=MODES, default="ok")
    parser.add_argument("--reply-chars", type=int, default=0)
    parser.add_argument("--token-delay-ms", type=int, default=0, help="pause between the words of a stream")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = FakeOpenAI(
        host=args.host,
        port=args.port,
        latency_ms=args.latency_ms,
        mode=args.mode,
        reply_chars=args.reply_chars,
        token_delay_ms=args.token_delay_ms,
        record=False,
    ).start()
    logger.info("fake OpenAI upstream at %s (latency %d ms, mode %s)", server.base_url, args.latency_ms, args.mode)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
