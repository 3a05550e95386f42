"""The invoke's plain validation and output (agents.serializers) say exactly what the serializers say."""

from dataclasses import dataclass

import pytest
from rest_framework import serializers

from agents.serializers import InvokeInput, InvokeOutput, invoke_output, validated_invoke_input

VALID = [
    {"input": "hello"},
    {"input": "  spaced  ", "variables": {"tone": "dry", "empty": ""}, "stream": True},
    {"input": "more", "conversation_id": 7, "stream": False, "unknown": 1},
    {"input": "ünïcødé ✓", "variables": {}},
    {"input": "coerced", "stream": "true", "conversation_id": "3"},  # DRF's coercions, through the serializer
]
INVALID = [
    {},
    {"input": ""},
    {"input": "   "},
    {"input": "x" * 20_001},
    {"input": "nul\x00"},
    {"input": "lone \ud800"},
    {"input": "hi", "variables": {"1bad": "x"}},
    {"input": "hi", "variables": {f"v{i}": "x" for i in range(21)}},
    {"input": "hi", "variables": {"v": "x" * 2_001}},
    {"input": "hi", "variables": ["not", "a", "dict"]},
    {"input": "hi", "conversation_id": 0},
    {"input": "hi", "conversation_id": True},
    {"input": "hi", "stream": "maybe"},
    ["not", "an", "object"],
]


def _serializer(data) -> dict:
    serializer = InvokeInput(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@pytest.mark.parametrize("data", VALID)
def test_valid_input_validates_as_the_serializer_does(data):
    assert validated_invoke_input(data) == _serializer(data)


@pytest.mark.parametrize("data", INVALID)
def test_invalid_input_fails_with_the_serializers_errors(data):
    with pytest.raises(serializers.ValidationError) as ours:
        validated_invoke_input(data)
    with pytest.raises(serializers.ValidationError) as theirs:
        _serializer(data)
    assert ours.value.detail == theirs.value.detail


@dataclass
class _Conversation:
    pk: int


@dataclass
class _Result:
    output: str
    conversation: _Conversation
    prompt_version: int
    tokens_input: int
    tokens_output: int
    latency_ms: int
    is_demo: bool


@pytest.mark.parametrize("is_demo", [False, True])
def test_output_is_the_serializers(is_demo):
    result = _Result("answer", _Conversation(12), 3, 95, 41, 830, is_demo)

    assert invoke_output(result) == InvokeOutput(result).data
