"""The voice-input service: measure → authorize (reserve) → transcribe → meter, like an invoke.

A transcription is a call of its own: the policy decides it (subscription, channel, rate limit,
quota) and reserves one request before any audio leaves for the provider, and one UsageEvent records
it with the audio seconds measured from the audio itself (never the duration the client declared).
A failed transcription gives its reservation back, as a failed invoke does.
"""

import logging
import time
from dataclasses import dataclass

from django.db import transaction

from agents import transcription
from agents.audio import opus_duration_seconds
from agents.errors import AgentErrorCode
from agents.models import Agent, ProviderKind
from agents.runtime import resolve_provider
from botgeneric.errors import DomainError
from policy.errors import PolicyDenied
from policy.services import authorize
from prompts.selectors import active_version
from usage import services as usage_services
from usage.models import Outcome

logger = logging.getLogger(__name__)


class AudioTooLong(DomainError):
    code = AgentErrorCode.AUDIO_TOO_LONG
    http_status = 400


@dataclass(frozen=True)
class Transcript:
    text: str
    audio_seconds: int


def transcribe_voice(*, user, agent: Agent, channel: str, audio: bytes, filename: str, max_seconds: int) -> Transcript:
    """What `audio` (Ogg Opus) says, metered. Raises AudioUnreadable / AudioTooLong (nothing reserved),
    PolicyDenied (metered as denied), UpstreamError / UpstreamTimeout (reservation released)."""
    seconds = opus_duration_seconds(audio)
    if seconds > max_seconds:
        raise AudioTooLong(detail=f"Voice messages can be at most {max_seconds} seconds.", extra={"limit": max_seconds})
    try:
        grant = authorize(user=user, agent=agent, channel=channel, meta={"tokens_input": 0})
    except PolicyDenied as denied:
        usage_services.record_event(
            user=user, agent=agent, channel=channel, outcome=Outcome.DENIED, error_code=denied.code
        )
        raise
    version = getattr(agent, "active_prompt", None) or active_version(agent=agent)
    started = time.perf_counter()
    try:
        is_demo = version is not None and resolve_provider(version).kind == ProviderKind.DEMO
        text = transcription.transcribe(agent=agent, audio=audio, filename=filename)
    except DomainError as failure:
        logger.info("transcription failed org=%s agent=%s code=%s", user.organization_id, agent.pk, failure.code)
        with transaction.atomic():
            usage_services.release(
                account=grant.account,
                period_start=grant.period_start,
                reserved_requests=grant.reserved_requests,
                reserved_tokens_input=grant.reserved_tokens_input,
                reserved_tokens_output=grant.reserved_tokens_output,
            )
            usage_services.record_event(
                user=user,
                agent=agent,
                channel=channel,
                outcome=Outcome.ERROR,
                error_code=failure.code,
                prompt_version=version,
                model=transcription.TRANSCRIPTION_MODEL,
                audio_seconds=seconds,
            )
        raise
    usage_services.record_event(
        user=user,
        agent=agent,
        channel=channel,
        outcome=Outcome.OK,
        prompt_version=version,
        model="demo" if is_demo else transcription.TRANSCRIPTION_MODEL,
        latency_ms=int((time.perf_counter() - started) * 1000),
        audio_seconds=seconds,
    )
    return Transcript(text=text, audio_seconds=seconds)
