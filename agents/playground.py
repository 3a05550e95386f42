"""The operator's playground: one message to a prompt version (a draft before it goes live) on its own
provider, through the runtime's own path (render, provider, stream), and the answer with its tokens and cost.

No policy decision and no quota: an operator is not a customer. The call is metered as a usage event of the
operator on the `console` channel with no organization, so no customer's usage, quota or bill includes it.
"""

from dataclasses import dataclass
from decimal import Decimal

from asgiref.sync import async_to_sync

from agents import runtime
from botgeneric.channels import Channel
from botgeneric.errors import DomainError
from prompts.models import PromptVersion
from usage.models import Outcome
from usage.services import record_event


@dataclass
class PlaygroundAnswer:
    output: str
    tokens_input: int
    tokens_output: int
    latency_ms: int
    cost_usd: Decimal
    is_demo: bool


async def _answer(call: runtime.PreparedCall) -> runtime.Completion:
    stream = runtime.UpstreamStream(call)
    try:
        async for _piece in stream:
            pass
    finally:
        await stream.aclose()
    return stream.completion()


def try_version(*, version: PromptVersion, operator, input: str) -> PlaygroundAnswer:
    """Send `input` to `version` and meter the call to `operator`. A failure is metered (nothing charged)
    and raised as the runtime's error (UpstreamError, UpstreamTimeout, PromptError…)."""
    call = runtime.prepare(agent=version.agent, input=input, variables=None, history=[], version=version)
    meter = {
        "user": operator,
        "agent": version.agent,
        "channel": Channel.CONSOLE,
        "prompt_version": version,
        "for_organization": False,
    }
    try:
        completion = async_to_sync(_answer)(call)
    except DomainError as failure:
        record_event(**meter, outcome=Outcome.ERROR, error_code=failure.code, model=call.model)
        raise
    event = record_event(
        **meter,
        outcome=Outcome.OK,
        model="demo" if completion.is_demo else call.model,
        tokens_input=completion.tokens_input,
        tokens_output=completion.tokens_output,
        latency_ms=completion.latency_ms,
    )
    return PlaygroundAnswer(
        output=completion.output,
        tokens_input=completion.tokens_input,
        tokens_output=completion.tokens_output,
        latency_ms=completion.latency_ms,
        cost_usd=event.cost_usd,
        is_demo=completion.is_demo,
    )
