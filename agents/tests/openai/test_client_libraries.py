"""The client libraries integrators use, pointed at the live server: langchain-openai (tools, structured
output, the Responses API) and litellm. Each goes through its own request building and parsing."""

import os

import pytest
from pydantic import BaseModel

# litellm would fetch its model price map from the internet when imported; use the bundled copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
from langchain_openai import ChatOpenAI  # noqa: E402

from usage.models import Outcome, UsageEvent  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


class Book(BaseModel):
    """A book to recommend."""

    title: str
    pages: int


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@pytest.fixture
def base_url(live_asgi_server):
    return f"{live_asgi_server.url}/api/v1/openai"


def _chat(base_url, api_key, **kwargs) -> ChatOpenAI:
    return ChatOpenAI(model="writer", base_url=base_url, api_key=api_key, max_retries=0, timeout=60, **kwargs)


def test_langchain_invoke_keeps_the_conversation(base_url, api_key, fake_openai):
    answer = _chat(base_url, api_key).invoke(
        [("system", "Be brief."), ("human", "first"), ("ai", "one"), ("human", "second")]
    )

    assert answer.content == "echo: Please answer: second"
    sent = [message["content"] for message in fake_openai.chat_requests[-1]["json"]["messages"][1:]]
    assert sent == ["Be brief.", "first", "one", "Please answer: second"]


def test_langchain_bind_tools_returns_the_tool_call(base_url, api_key, fake_openai):
    answer = _chat(base_url, api_key).bind_tools([get_weather]).invoke("weather in Paris?")

    [call] = answer.tool_calls
    assert (call["name"], call["args"]) == ("get_weather", {"city": "sample city"})
    assert fake_openai.chat_requests[-1]["json"]["tools"][0]["function"]["name"] == "get_weather"


def test_langchain_streams_tool_calls_too(base_url, api_key):
    chunks = list(_chat(base_url, api_key).bind_tools([get_weather]).stream("weather?"))

    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert [(call["name"], call["args"]) for call in merged.tool_calls] == [("get_weather", {"city": "sample city"})]


def test_langchain_structured_output_with_json_schema(base_url, api_key, fake_openai):
    book = _chat(base_url, api_key).with_structured_output(Book, method="json_schema").invoke("a book, please")

    assert book == Book(title="sample title", pages=1)
    assert fake_openai.chat_requests[-1]["json"]["response_format"]["type"] == "json_schema"


def test_langchain_on_the_responses_api(base_url, api_key):
    answer = _chat(base_url, api_key, use_responses_api=True).invoke("hello there")

    assert answer.text == "echo: Please answer: hello there"
    assert UsageEvent.objects.get().outcome == Outcome.OK


def test_litellm_as_a_client(base_url, api_key):
    response = litellm.completion(
        model="openai/writer",
        api_base=base_url,
        api_key=api_key,
        messages=[{"role": "user", "content": "hi from litellm"}],
        temperature=0.5,
        num_retries=0,
    )

    assert response.choices[0].message.content == "echo: Please answer: hi from litellm"
    assert response.usage.total_tokens == UsageEvent.objects.get().tokens_input + UsageEvent.objects.get().tokens_output


def test_litellm_streaming(base_url, api_key):
    chunks = litellm.completion(
        model="openai/writer",
        api_base=base_url,
        api_key=api_key,
        messages=[{"role": "user", "content": "stream"}],
        stream=True,
        num_retries=0,
    )

    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == "echo: Please answer: stream"
