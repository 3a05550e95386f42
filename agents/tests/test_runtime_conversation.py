"""The runtime's interface for whole conversations and tools (what the OpenAI-compatible endpoint and a
tool loop build on): message order, the context budget, per-call options, tool calls streamed and
returned, and a conversation continued with tool results. Real HTTP to the fake upstream."""

import json

import pytest
from asgiref.sync import async_to_sync

from agents import runtime
from agents.services import StreamDone, TextDelta, ToolCallDelta, invoke_stream
from agents.tests.factories import AgentFactory
from agents.tests.tool_definitions import WEATHER_TOOL
from prompts.tests.factories import ActivePromptVersionFactory
from usage.models import Outcome, PeriodCounter, UsageEvent


@pytest.fixture
def budget_agent(db):
    agent = AgentFactory()
    ActivePromptVersionFactory(agent=agent, system_prompt="Agent rules.", template="Q: {input}", context_tokens=60)
    return agent


@async_to_sync
async def _read(stream) -> list:
    return [event async for event in stream]


def test_the_agents_prompt_comes_first_then_client_instructions_then_the_turns_in_order(budget_agent):
    call = runtime.prepare(
        agent=budget_agent,
        input="and now?",
        variables=None,
        history=[],
        messages=[
            {"role": "user", "content": "first"},
            {"role": "system", "content": "Be brief."},
            {"role": "assistant", "content": "one"},
            {"role": "user", "content": "and now?"},
        ],
    )

    assert call.messages == [
        {"role": "system", "content": "Agent rules."},
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "one"},
        {"role": "user", "content": "Q: and now?"},
    ]


def test_the_oldest_turns_are_dropped_to_fit_the_budget_and_a_tool_result_goes_with_its_call(budget_agent):
    call_message = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function"}]}
    messages = [
        {"role": "user", "content": "old " * 40},
        call_message,
        {"role": "tool", "tool_call_id": "c1", "content": "x" * 200},
        {"role": "user", "content": "recent"},
        {"role": "assistant", "content": "recent answer"},
        {"role": "user", "content": "now"},
    ]

    call = runtime.prepare(agent=budget_agent, input="now", variables=None, history=[], messages=messages)

    assert [message["content"] for message in call.messages] == ["Agent rules.", "recent", "recent answer", "Q: now"]
    assert call.estimated_input_tokens <= 60


def test_a_final_turn_larger_than_the_budget_is_refused(budget_agent):
    with pytest.raises(runtime.ContextTooLong) as refused:
        runtime.prepare(agent=budget_agent, input="y" * 400, variables=None, history=[])

    assert refused.value.extra == {"param": "messages"}


def test_options_reach_the_upstream_and_max_tokens_is_capped_at_the_versions(
    user, agent, account, upstream_provider, fake_openai
):
    options = runtime.CallOptions(temperature=0.1, top_p=0.5, max_tokens=10_000, stop=["END"], seed=7, user="u-1")

    *_, done = _read(invoke_stream(user=user, agent=agent, channel="api", input="hi", options=options))

    sent = fake_openai.chat_requests[-1]["json"]
    version_max = agent.prompt_versions.get().max_tokens
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"]) == (0.1, 0.5, version_max)
    assert (sent["stop"], sent["seed"], sent["user"]) == (["END"], 7, "u-1")
    assert "tools" not in sent and isinstance(done, StreamDone)


def test_a_smaller_max_tokens_is_what_is_sent(user, agent, account, upstream_provider, fake_openai):
    options = runtime.CallOptions(max_tokens=5)

    assert runtime.prepare(agent=agent, input="hi", variables=None, history=[], options=options).max_output_tokens == 5
    _read(invoke_stream(user=user, agent=agent, channel="api", input="hi", options=options))
    assert fake_openai.chat_requests[-1]["json"]["max_tokens"] == 5


def test_tool_calls_stream_as_fragments_and_end_the_answer_with_finish_reason_tool_calls(
    user, agent, account, upstream_provider, fake_openai
):
    options = runtime.CallOptions(tools=[WEATHER_TOOL], tool_choice="auto", parallel_tool_calls=False)

    *fragments, done = _read(
        invoke_stream(user=user, agent=agent, channel="api", input="weather?", options=options, store=False)
    )

    assert fragments and all(isinstance(fragment, ToolCallDelta) for fragment in fragments)
    assert fragments[0].name == "get_weather" and fragments[0].id
    [tool_call] = done.result.tool_calls
    assert tool_call["id"] == fragments[0].id
    assert tool_call["function"]["name"] == "get_weather"
    assert json.loads(tool_call["function"]["arguments"]) == {"city": "sample city"}
    assert "".join(fragment.arguments for fragment in fragments) == tool_call["function"]["arguments"]
    assert (done.result.finish_reason, done.result.output, done.result.conversation) == ("tool_calls", "", None)
    sent = fake_openai.chat_requests[-1]["json"]
    assert (sent["tools"], sent["tool_choice"], sent["parallel_tool_calls"]) == ([WEATHER_TOOL], "auto", False)
    event = UsageEvent.objects.get()
    assert event.outcome == Outcome.OK and event.tokens_output > 0
    assert PeriodCounter.objects.get(account=account).tokens_output == event.tokens_output


def test_an_extended_call_carries_the_tool_results_and_gets_the_answer(
    user, agent, account, upstream_provider, fake_openai
):
    options = runtime.CallOptions(tools=[WEATHER_TOOL])
    call = runtime.prepare(agent=agent, input="weather?", variables=None, history=[], options=options)
    first = runtime.UpstreamStream(call)
    _read(first)
    [tool_call] = first.tool_calls

    follow_up = call.extended(
        [
            {"role": "assistant", "content": None, "tool_calls": first.tool_calls},
            {"role": "tool", "tool_call_id": tool_call["id"], "content": "sunny, 21°C"},
        ]
    )
    second = runtime.UpstreamStream(follow_up)
    pieces = _read(second)

    assert "".join(pieces) == "echo: sunny, 21°C" and second.finish_reason == "stop"
    sent = fake_openai.chat_requests[-1]["json"]
    assert sent["messages"][-2]["tool_calls"] == first.tool_calls
    assert sent["tools"] == [WEATHER_TOOL]
    assert call.messages == sent["messages"][:-2]


def test_without_tools_the_stream_is_text_only_as_before(user, agent, account, upstream_provider):
    *deltas, done = _read(invoke_stream(user=user, agent=agent, channel="api", input="plain"))

    assert all(isinstance(delta, TextDelta) for delta in deltas)
    assert done.result.tool_calls == [] and done.result.finish_reason == "stop"
    assert done.result.conversation is not None
