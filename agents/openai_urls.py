from django.urls import path

from agents import openai_api

urlpatterns = [
    path("chat/completions", openai_api.ChatCompletionsView.as_view(), name="openai-chat-completions"),
    path("models", openai_api.ModelListView.as_view(), name="openai-models"),
    path("models/<str:model>", openai_api.ModelDetailView.as_view(), name="openai-model"),
]
