"""`agents.services.invoke_stream`, the interface every channel formats: deltas, then StreamDone;
what an early close, a mid-answer failure and a silent provider cost. The fake upstream streams over
real HTTP through the real openai SDK."""

import time

import pytest
from asgiref.sync import async_to_sync

from agents.models import Message, MessageRole
from agents.runtime import UpstreamError, UpstreamTimeout, estimate_tokens
from agents.services import CLIENT_CLOSED, StreamDone, TextDelta, invoke_stream
from usage.models import Outcome, PeriodCounter, UsageEvent


def _stream(user, agent, text):
    return invoke_stream(user=user, agent=agent, channel="api", input=text)


@async_to_sync
async def _read(stream, *, take: int | None = None) -> list:
    """The stream's events; with `take`, only that many, then the stream is closed (the client leaves)."""
    events = []
    try:
        async for event in stream:
            events.append(event)
            if take is not None and len(events) == take:
                break
    finally:
        await stream.aclose()
    return events


def test_a_stream_yields_text_deltas_then_one_done_with_the_stored_answer(user, agent, account, upstream_provider):
    events = _read(_stream(user, agent, "tell me a story REPLY_CHARS=200"))

    *deltas, done = events
    assert len(deltas) > 10 and all(isinstance(delta, TextDelta) for delta in deltas)
    assert isinstance(done, StreamDone)
    answer = "".join(delta.text for delta in deltas)
    assert done.result.output == answer
    stored = Message.objects.get(role=MessageRole.ASSISTANT)
    assert (stored.content, stored.interrupted, stored.conversation) == (answer, False, done.result.conversation)


def test_the_demo_provider_streams_word_by_word(user, agent, account):
    *deltas, done = _read(_stream(user, agent, "hello there"))

    assert len(deltas) > 5
    assert done.result.is_demo and done.result.output == "".join(delta.text for delta in deltas)


def test_the_provider_usage_chunk_settles_the_counter(user, agent, account, upstream_provider, fake_openai):
    *_, done = _read(_stream(user, agent, "count me " * 30))

    sent = fake_openai.chat_requests[-1]["json"]
    assert (sent["stream"], sent["stream_options"]) == (True, {"include_usage": True})
    counter = PeriodCounter.objects.get(account=account)
    assert (counter.requests, counter.tokens_input, counter.tokens_output) == (
        1,
        done.result.tokens_input,
        done.result.tokens_output,
    )


def test_without_a_usage_chunk_the_call_is_charged_on_estimates(user, agent, account, upstream_provider, fake_openai):
    fake_openai.stream_usage = False

    *deltas, done = _read(_stream(user, agent, "estimate me"))

    answer = "".join(delta.text for delta in deltas)
    assert done.result.tokens_output == estimate_tokens(answer)
    assert PeriodCounter.objects.get(account=account).tokens_output == estimate_tokens(answer)


def test_closing_after_three_deltas_closes_the_upstream_and_charges_what_was_delivered(
    user, agent, account, upstream_provider, fake_openai
):
    fake_openai.token_delay_ms = 50

    events = _read(_stream(user, agent, "a long answer REPLY_CHARS=600"), take=3)

    delivered = "".join(event.text for event in events)
    assert fake_openai.wait_closed(timeout=5)
    [stream] = fake_openai.streams
    assert stream["closed_by_client"] and not stream["completed"]
    stored = Message.objects.get(role=MessageRole.ASSISTANT)
    assert (stored.content, stored.interrupted) == (delivered, True)
    counter = PeriodCounter.objects.get(account=account)
    assert (counter.requests, counter.tokens_output) == (1, estimate_tokens(delivered))
    event = UsageEvent.objects.get()
    assert (event.outcome, event.error_code, event.tokens_output) == (
        Outcome.OK,
        CLIENT_CLOSED,
        estimate_tokens(delivered),
    )


def test_a_failure_mid_answer_raises_after_charging_the_delivered_part(
    user, agent, account, upstream_provider, fake_openai
):
    stream = _stream(user, agent, "FAIL_MIDSTREAM REPLY_CHARS=300")
    events = []

    async def consume():
        async for event in stream:
            events.append(event)

    with pytest.raises(UpstreamError):
        async_to_sync(consume)()

    delivered = "".join(event.text for event in events)
    assert len(events) == fake_openai.fail_after_tokens
    stored = Message.objects.get(role=MessageRole.ASSISTANT)
    assert (stored.content, stored.interrupted) == (delivered, True)
    assert PeriodCounter.objects.get(account=account).tokens_output == estimate_tokens(delivered)
    event = UsageEvent.objects.get()
    assert (event.outcome, event.error_code, event.tokens_output) == (
        Outcome.ERROR,
        "upstream_error",
        estimate_tokens(delivered),
    )


def test_no_first_token_within_the_timeout_raises_upstream_timeout_and_charges_nothing(
    user, agent, account, upstream_provider, fake_openai
):
    upstream_provider.first_token_timeout = 0.3
    upstream_provider.save(update_fields=["first_token_timeout"])
    started = time.monotonic()

    with pytest.raises(UpstreamTimeout):
        _read(_stream(user, agent, "HANG_STREAM"))

    assert time.monotonic() - started < 0.9  # the HTTP read timeout (1 s) did not fire first
    counter = PeriodCounter.objects.get(account=account)
    assert (counter.requests, counter.tokens_input, counter.tokens_output) == (0, 0, 0)
    assert not Message.objects.exists()
    assert UsageEvent.objects.get().error_code == "upstream_timeout"
