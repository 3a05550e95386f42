"""Speech to text for voice input, on the same provider the agent's answers come from.

The provider is resolved exactly as the runtime resolves it (the active version's provider, else the
default one, else the built-in), so an operator configures one endpoint per agent, not two. Like the
runtime, this knows nothing about plans or quotas: the channel asks the policy first.
"""

import logging

import openai

from agents.models import Agent, ProviderKind
from agents.runtime import AgentUnavailable, UpstreamError, UpstreamTimeout, resolve_provider
from prompts.selectors import active_version

logger = logging.getLogger(__name__)

TRANSCRIPTION_MODEL = "whisper-1"


def transcribe(*, agent: Agent, audio: bytes, filename: str) -> str:
    """The text spoken in `audio`. Raises AgentUnavailable, UpstreamTimeout (504) or UpstreamError (502).

    The offline demo provider answers with a labelled stand-in, so the voice path works without a key.
    """
    version = getattr(agent, "active_prompt", None) or active_version(agent=agent)
    if version is None:
        raise AgentUnavailable(detail=f"{agent.name} is not available right now.")
    provider = resolve_provider(version)
    if provider.kind == ProviderKind.DEMO:
        return f"[demo transcript] a voice message of {len(audio)} bytes (offline demo, no speech recognition)"
    try:
        with openai.OpenAI(
            base_url=provider.base_url or None,
            api_key=provider.api_key,
            timeout=provider.timeout,
            max_retries=provider.max_retries,
        ) as client:
            result = client.audio.transcriptions.create(model=TRANSCRIPTION_MODEL, file=(filename, audio))
    except openai.APITimeoutError:
        logger.warning("transcription timeout agent=%s", agent.pk)
        raise UpstreamTimeout(detail="The speech recognition did not answer in time.") from None
    except (openai.APIError, ValueError) as exc:
        logger.warning("transcription failed agent=%s: %s", agent.pk, type(exc).__name__)
        raise UpstreamError(detail="The speech recognition failed.") from None
    text = getattr(result, "text", None)
    if not isinstance(text, str):
        raise UpstreamError(detail="The speech recognition sent no text.")
    return text.strip()
