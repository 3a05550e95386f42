"""A fake Telegram Bot API server on 127.0.0.1, so the real aiogram client runs end to end in tests.

It speaks the wire protocol aiogram uses: POST /bot<token>/<method> with form or JSON parameters,
answered with {"ok": true, "result": ...} or {"ok": false, "error_code", "description", "parameters"},
and GET /file/bot<token>/<path> for downloads. Every call is recorded; failures can be scripted.
It serves several bots: the platform's (`token`) and any customer bot added with `add_bot()`; each
call records the token it came with, and an unknown token is answered 401 like Telegram does.
"""

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 424242


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    started: float = 0.0
    finished: float = 0.0
    token: str = ""


@dataclass
class _ScriptedFailure:
    method: str
    status: int
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    times: int = 1


class FakeTelegramAPI:
    """Start with `start()`, point aiogram at `base_url`, inspect `calls`, script failures with `fail()`."""

    def __init__(self, token: str):
        self.token = token
        self.bots: dict[str, dict[str, Any]] = {
            token: {"id": BOT_ID, "is_bot": True, "first_name": "Test bot", "username": "test_bot"}
        }
        self.calls: list[ApiCall] = []
        self.files: dict[str, tuple[str, bytes]] = {}
        self.pending_updates: list[dict[str, Any]] = []
        self.base_url = ""
        self._failures: list[_ScriptedFailure] = []
        self._delays: dict[str, float] = {}
        self._lock = threading.Lock()
        self._message_ids = itertools.count(1000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # --- test-facing helpers -------------------------------------------------------------

    def add_bot(self, token: str, *, username: str, first_name: str = "Shop bot") -> None:
        """Serve another bot (a customer's own), known by `token`; its id is the token's numeric part."""
        self.bots[token] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }

    def add_file(self, file_id: str, content: bytes, file_path: str | None = None) -> None:
        self.files[file_id] = (file_path or f"voice/{file_id}.oga", content)

    def fail(self, method: str, *, status: int = 429, times: int = 1, retry_after: int | None = None) -> None:
        """The next `times` calls of `method` answer with `status` (429 carries parameters.retry_after)."""
        descriptions = {
            403: "Forbidden: bot was blocked by the user",
            429: f"Too Many Requests: retry after {retry_after or 1}",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        parameters = {"retry_after": retry_after or 1} if status == 429 else {}
        with self._lock:
            self._failures.append(
                _ScriptedFailure(method, status, descriptions.get(status, "Error"), parameters, times)
            )

    def slow_down(self, method: str, seconds: float) -> None:
        """Make every call of `method` take `seconds`, to observe what runs concurrently."""
        self._delays[method] = seconds

    def push_update(self, update: dict[str, Any]) -> None:
        with self._lock:
            self.pending_updates.append(update)

    def calls_of(self, method: str, token: str | None = None) -> list[ApiCall]:
        """Calls of `method` (by the bot with `token` only, when given)."""
        with self._lock:
            return [call for call in self.calls if call.method == method and token in (None, call.token)]

    def sent_texts(self, chat_id: int | None = None, token: str | None = None) -> list[str]:
        return [
            call.params["text"]
            for call in self.calls_of("sendMessage", token) + self.calls_of("editMessageText", token)
            if chat_id is None or int(call.params["chat_id"]) == chat_id
        ]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    # --- server lifecycle ----------------------------------------------------------------

    def start(self) -> "FakeTelegramAPI":
        started = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start_site())
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="fake-telegram-api", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("fake Telegram API did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = None

    async def _start_site(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"

    # --- the Bot API ---------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if token not in self.bots:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        call = ApiCall(method, await _read_params(request), started=time.monotonic(), token=token)
        with self._lock:
            self.calls.append(call)
            failure = next((f for f in self._failures if f.method == method and f.times > 0), None)
            if failure is not None:
                failure.times -= 1
        if failure is not None:
            return _error(failure.status, failure.description, failure.parameters)
        handler = getattr(self, f"_method_{method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        await asyncio.sleep(self._delays.get(method, 0))
        response = await handler(call.params, token)
        call.finished = time.monotonic()
        return response

    async def _method_getme(self, params: dict, token: str) -> web.Response:
        return _ok(self.bots[token])

    async def _method_sendmessage(self, params: dict, token: str) -> web.Response:
        return _ok(self._message(params))

    async def _method_editmessagetext(self, params: dict, token: str) -> web.Response:
        return _ok(self._message(params, message_id=int(params.get("message_id") or next(self._message_ids))))

    async def _method_editmessagereplymarkup(self, params: dict, token: str) -> web.Response:
        return _ok(self._message(params, message_id=int(params.get("message_id") or next(self._message_ids))))

    async def _method_sendmessagedraft(self, params: dict, token: str) -> web.Response:
        return _ok(True)

    async def _method_sendchataction(self, params: dict, token: str) -> web.Response:
        return _ok(True)

    async def _method_answercallbackquery(self, params: dict, token: str) -> web.Response:
        return _ok(True)

    async def _method_setwebhook(self, params: dict, token: str) -> web.Response:
        return _ok(True)

    async def _method_deletewebhook(self, params: dict, token: str) -> web.Response:
        return _ok(True)

    async def _method_setmycommands(self, params: dict, token: str) -> web.Response:
        return _ok(True)

    async def _method_getfile(self, params: dict, token: str) -> web.Response:
        file_id = params.get("file_id", "")
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        path, content = self.files[file_id]
        return _ok({"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(content), "file_path": path})

    async def _method_getupdates(self, params: dict, token: str) -> web.Response:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 1.0)
        while True:
            with self._lock:
                self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
                ready = list(self.pending_updates)
            if ready or time.monotonic() >= deadline:
                return _ok(ready)
            await asyncio.sleep(0.05)

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] not in self.bots:
            return web.Response(status=401)
        wanted = request.match_info["path"]
        for path, content in self.files.values():
            if path == wanted:
                with self._lock:
                    self.calls.append(ApiCall("download", {"path": path}))
                return web.Response(body=content, content_type="application/octet-stream")
        return web.Response(status=404)

    def _message(self, params: dict, message_id: int | None = None) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        return {
            "message_id": message_id or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Test bot"},
            "text": params.get("text", ""),
        }


async def _read_params(request: web.Request) -> dict[str, Any]:
    """aiogram posts multipart/form-data; nested objects (reply_markup) arrive as JSON strings."""
    if request.content_type == "application/json":
        return await request.json()
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, str) and value[:1] in "{[":
            try:
                params[key] = json.loads(value)
                continue
            except ValueError:
                pass
        params[key] = value
    return params


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
