"""The server-side tool loop: the model calls the prompt version's built-in tools, we run them and send
the results back, until it answers in words. Part of the runtime: it knows nothing of billing.

`ToolLoop` has the face of `runtime.UpstreamStream` (iterate the answer's text as it arrives, `delivered`,
`completion()`, `aclose()`), over several upstream rounds: at most `max_rounds`, the last one with
`tool_choice: "none"` so the model must answer. Each round's tokens are counted; `completion()` is their
sum, so the caller charges every round of the one request. `steps` are the tool calls and results in
OpenAI's message shape (an assistant message with `tool_calls`, then one `tool` message per call), for
the record of the conversation. Running the tools is the caller's (`run_tools`): a failing tool answers
the model with an error (`agents.tools.run_tool`), it never ends the answer.
"""

import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from agents.runtime import Completion, PreparedCall, UpstreamStream

RunTools = Callable[[list[dict]], Awaitable[list[dict]]]


class ToolLoop:
    def __init__(self, call: PreparedCall, *, run_tools: RunTools, max_rounds: int):
        self.call = call
        self.parts: list[str] = []
        self.steps: list[dict] = []
        self.is_demo = False
        self._run_tools = run_tools
        self._max_rounds = max(1, max_rounds)
        self._rounds: list[Completion] = []
        self._current: UpstreamStream | None = None
        self._started = time.perf_counter()
        self._deltas = self._loop()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._deltas

    async def aclose(self) -> None:
        await self._deltas.aclose()

    @property
    def output(self) -> str:
        return "".join(self.parts)

    @property
    def delivered(self) -> bool:
        return bool(self.parts or self.steps or (self._current is not None and self._current.delivered))

    def completion(self) -> Completion:
        rounds = [*self._rounds, *([self._current.completion()] if self._current is not None else [])]
        if not rounds:
            return Completion(
                output="",
                tokens_input=self.call.estimated_input_tokens,
                tokens_output=0,
                latency_ms=int((time.perf_counter() - self._started) * 1000),
            )
        return Completion(
            output=self.output,
            tokens_input=sum(completion.tokens_input for completion in rounds),
            tokens_output=sum(completion.tokens_output for completion in rounds),
            latency_ms=int((time.perf_counter() - self._started) * 1000),
            is_demo=any(completion.is_demo for completion in rounds),
            finish_reason=rounds[-1].finish_reason,
        )

    async def _loop(self) -> AsyncIterator[str]:
        call = self.call
        for number in range(1, self._max_rounds + 1):
            if number == self._max_rounds:
                call = dataclasses.replace(call, options=dataclasses.replace(call.options, tool_choice="none"))
            stream = UpstreamStream(call)
            self._current = stream
            try:
                async for piece in stream:
                    if isinstance(piece, str):
                        self.parts.append(piece)
                        yield piece
            finally:
                await stream.aclose()
            self.is_demo = self.is_demo or stream.is_demo
            self._rounds.append(stream.completion())
            self._current = None
            calls = stream.tool_calls
            if stream.finish_reason != "tool_calls" or not calls:
                return
            results = await self._run_tools(calls)
            # The words the model wrote before calling are already in `parts` (what the client saw).
            step = [{"role": "assistant", "content": stream.output or None, "tool_calls": calls}, *results]
            self.steps.extend(step)
            call = call.extended(step)
