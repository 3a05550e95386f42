import pytest

from agents.runtime import UpstreamError
from agents.tests.factories import AgentFactory, LLMProviderFactory
from agents.transcription import transcribe

pytestmark = pytest.mark.django_db


def test_demo_provider_gives_a_labelled_stand_in_transcript():
    agent = AgentFactory(with_prompt=True, active_prompt__provider=LLMProviderFactory())

    text = transcribe(agent=agent, audio=b"OggS" * 10, filename="voice.ogg")

    assert text.startswith("[demo transcript]") and "40 bytes" in text


def test_openai_provider_transcribes_through_the_sdk(fake_openai):
    provider = LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-test")
    agent = AgentFactory(with_prompt=True, active_prompt__provider=provider)

    text = transcribe(agent=agent, audio=b"x" * 123, filename="voice.ogg")

    assert text == "transcript of 123 bytes"
    [request] = fake_openai.requests
    assert request["headers"]["Authorization"] == "Bearer sk-test"


def test_upstream_failure_is_an_upstream_error(fake_openai):
    provider = LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-test")
    agent = AgentFactory(with_prompt=True, active_prompt__provider=provider)
    fake_openai.mode = "fail_500"

    with pytest.raises(UpstreamError):
        transcribe(agent=agent, audio=b"x", filename="voice.ogg")
