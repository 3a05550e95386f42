"""Writes a customer makes to their own conversations: rename, delete. The caller fetched the conversation
through `agents.selectors.access_conversation`, so it is theirs."""

from agents.models import Conversation

TITLE_MAX_LENGTH = Conversation._meta.get_field("title").max_length


def rename_conversation(*, conversation: Conversation, title: str) -> Conversation:
    """A title of the customer's choosing; blank falls back to showing the agent's name."""
    conversation.title = " ".join(title.split())[:TITLE_MAX_LENGTH]
    conversation.save(update_fields=["title"])
    return conversation


def delete_conversation(*, conversation: Conversation) -> None:
    """The conversation and its messages go; usage events (metering, billing) keep no link to it and stay."""
    conversation.delete()  # one transaction with its cascade (Django's deletion collector)
