"""Error codes of the agent runtime, the invoke service and the OpenAI-compatible endpoint."""

from botgeneric.errors import ErrorCode


class AgentErrorCode(ErrorCode):
    UPSTREAM_ERROR = "upstream_error", "The model provider failed to answer."
    UPSTREAM_TIMEOUT = "upstream_timeout", "The model provider took too long to answer."
    AGENT_UNAVAILABLE = "agent_unavailable", "The agent has no active prompt version."
    PROVIDER_KEY_UNAVAILABLE = "provider_key_unavailable", "The model provider's key cannot be read."
    ANSWER_NOT_SAVED = "answer_not_saved", "The answer could not be saved."
    AUDIO_UNREADABLE = "audio_unreadable", "The audio could not be read."
    AUDIO_TOO_LONG = "audio_too_long", "The audio is too long."
    NO_AGENT = "no_agent", "Choose an agent first."
    CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded", "The message does not fit the agent's context."
    MODEL_NOT_FOUND = "model_not_found", "No such model."
    # The OpenAI-compatible endpoint's name for a body it cannot take (OpenAI's own code).
    INVALID_REQUEST_ERROR = "invalid_request_error", "Invalid request."
    UNSUPPORTED_PARAMETER = "unsupported_parameter", "This parameter is not supported."
    PARAMETER_LOCKED = "parameter_locked", "This parameter is fixed by the model's operator."
    UNKNOWN_URL = "unknown_url", "No such endpoint on the OpenAI-compatible API."
