"""The OpenAI-compatible API at /api/v1/openai/, and the same again under /api/v1/openai/v1/ for
clients whose base URL ends in /v1. A trailing slash is tolerated; only the canonical paths (no /v1,
no slash) are in the OpenAPI schema. Any other path here is a JSON 404 in OpenAI's shape that names
what is supported (botgeneric.error_views)."""

from django.urls import include, path

from agents import openai_api

endpoints = [
    path("chat/completions", openai_api.ChatCompletionsView.as_view(), name="openai-chat-completions"),
    path("responses", openai_api.ResponsesView.as_view(), name="openai-responses"),
    path("models", openai_api.ModelListView.as_view(), name="openai-models"),
    path("models/<str:model>", openai_api.ModelDetailView.as_view(), name="openai-model"),
]

urlpatterns = [
    *endpoints,
    *[path(f"{pattern.pattern}/", pattern.callback) for pattern in endpoints],
    path("v1/", include([*endpoints, *[path(f"{p.pattern}/", p.callback) for p in endpoints]])),
]
