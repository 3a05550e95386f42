"""The Responses API's wire format: the `response` object and its Server-Sent Events, built from the
invoke service's events. The view is in agents.openai_api; this module only shapes what it sends.

Stream: `response.created`, `response.in_progress`, `response.output_item.added`,
`response.content_part.added`, one `response.output_text.delta` per piece of text,
`response.output_text.done`, `response.content_part.done`, `response.output_item.done`,
`response.completed` (with usage); a failure midway is an `error` event, then `response.failed`.
"""

import json
import time
import uuid
from collections.abc import AsyncIterator

from agents.services import InvokeResult, StreamDone, TextDelta
from agents.streaming import with_keepalives
from botgeneric.errors import DomainError


def new_response_id(conversation_id: int | None) -> str:
    """`resp_<conversation>_<random>` for a stored response (previous_response_id finds the conversation)."""
    return f"resp_{conversation_id or 0}_{uuid.uuid4().hex}"


class ResponseShape:
    """The fields of one response that every event repeats, and the final object."""

    def __init__(self, *, response_id: str, model: str, data: dict, store: bool):
        self.id = response_id
        self.item_id = f"msg_{uuid.uuid4().hex}"
        self.created_at = int(time.time())
        self.model = model
        self.data = data
        self.store = store
        self.sequence = 0

    def response(self, *, status: str, result: InvokeResult | None = None, text: str = "") -> dict:
        data = self.data
        output = []
        if status != "in_progress":
            output = [self.message(text=result.output if result else text, status="completed")]
        format_ = (data.get("text") or {}).get("format") or {"type": "text"}
        body = {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "model": self.model,
            "output": output,
            "instructions": data.get("instructions"),
            "previous_response_id": data.get("previous_response_id"),
            "temperature": data.get("temperature"),
            "top_p": data.get("top_p"),
            "max_output_tokens": data.get("max_output_tokens"),
            "parallel_tool_calls": False,
            "tool_choice": "none",
            "tools": [],
            "text": {"format": _public_format(format_)},
            "store": self.store,
            "metadata": data.get("metadata") or {},
            "error": None,
            "incomplete_details": None,
            "usage": _usage(result) if result else None,
        }
        if result is not None and result.finish_reason == "length":
            body["status"] = "incomplete"
            body["incomplete_details"] = {"reason": "max_output_tokens"}
        return body

    def message(self, *, text: str, status: str) -> dict:
        content = [{"type": "output_text", "text": text, "annotations": []}] if status == "completed" else []
        return {"id": self.item_id, "type": "message", "status": status, "role": "assistant", "content": content}

    def event(self, kind: str, **fields) -> str:
        payload = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return f"event: {kind}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


def _public_format(format_: dict) -> dict:
    if format_.get("type") == "json_schema":
        return {"type": "json_schema", **format_["json_schema"]}
    return format_


def _usage(result: InvokeResult) -> dict:
    return {
        "input_tokens": result.tokens_input,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": result.tokens_output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": result.tokens_input + result.tokens_output,
    }


async def response_events(first: TextDelta, stream: AsyncIterator, shape: ResponseShape) -> AsyncIterator[str]:
    """The Responses API's events for one answer, keep-alive comments while the model is silent."""
    yield shape.event("response.created", response=shape.response(status="in_progress"))
    yield shape.event("response.in_progress", response=shape.response(status="in_progress"))
    where = {"item_id": shape.item_id, "output_index": 0}
    yield shape.event("response.output_item.added", output_index=0, item=shape.message(text="", status="in_progress"))
    empty_part = {"type": "output_text", "text": "", "annotations": []}
    yield shape.event("response.content_part.added", **where, content_index=0, part=empty_part)
    parts = [first.text]
    yield shape.event("response.output_text.delta", **where, content_index=0, delta=first.text, logprobs=[])
    try:
        async for event in with_keepalives(stream):
            if event is None:
                yield ": keep-alive\n\n"
            elif isinstance(event, TextDelta):
                parts.append(event.text)
                yield shape.event("response.output_text.delta", **where, content_index=0, delta=event.text, logprobs=[])
            elif isinstance(event, StreamDone):
                text = "".join(parts)
                part = {"type": "output_text", "text": text, "annotations": []}
                yield shape.event("response.output_text.done", **where, content_index=0, text=text, logprobs=[])
                yield shape.event("response.content_part.done", **where, content_index=0, part=part)
                item = shape.message(text=text, status="completed")
                yield shape.event("response.output_item.done", output_index=0, item=item)
                completed = shape.response(status="completed", result=event.result)
                yield shape.event("response.completed", response=completed)
    except DomainError as failure:
        yield shape.event("error", code=failure.code, message=str(failure.detail), param=None)
        failed = shape.response(status="failed", text="".join(parts))
        failed["error"] = {"code": failure.code, "message": str(failure.detail)}
        yield shape.event("response.failed", response=failed)
