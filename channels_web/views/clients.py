"""The client inbox: the organization's clients (people who wrote to its bots and widgets), the most
recently active first, each with their conversations; a conversation shows its messages, the agent's
tool calls included. Every member of the organization may read it."""

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from agents.models import MessageRole
from channels_web.views.deployments import upgrade_prompt
from deployments import selectors

CLIENTS_PER_PAGE = 20


@login_required
def inbox(request):
    organization_id = request.user.organization_id
    page = Paginator(selectors.contacts_for(organization_id=organization_id), CLIENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    contacts = list(page.object_list)
    grouped = selectors.conversations_by_contact(
        organization_id=organization_id, contact_ids=[contact.pk for contact in contacts]
    )
    context = {
        "page": page,
        "clients": [(contact, grouped[contact.pk]) for contact in contacts],
        "upgrade": upgrade_prompt(request.user),
    }
    return render(request, "web/clients.html", context)


@login_required
def client_conversation(request, conversation_id: int):
    try:
        conversation = selectors.access_client_conversation(user=request.user, conversation_id=conversation_id)
    except selectors.NotFound:
        raise Http404 from None
    context = {"conversation": conversation, "entries": transcript(conversation.messages.all())}
    return render(request, "web/client_conversation.html", context)


def _parsed(text: str | None):
    """A tool's arguments or result as a dict of fields when it is a JSON object, else the text itself."""
    try:
        value = json.loads(text or "")
    except ValueError:
        return text or ""
    return value if isinstance(value, dict) else text


def transcript(messages) -> list[dict]:
    """What the page shows per message: the client's words, the agent's answer, each tool the agent
    called with its arguments, and each tool's result named after its call."""
    entries, calls = [], {}
    for message in messages:
        if message.role == MessageRole.TOOL:
            entries.append(
                {
                    "kind": "tool_result",
                    "message": message,
                    "tool": calls.get(message.tool_call_id, ""),
                    "result": _parsed(message.content),
                }
            )
            continue
        if message.content:
            entries.append({"kind": message.role, "message": message})
        if message.role == MessageRole.ASSISTANT and message.tool_calls:
            for call in message.tool_calls:
                function = call.get("function") or {}
                calls[call.get("id", "")] = function.get("name", "")
                entries.append(
                    {
                        "kind": "tool_call",
                        "message": message,
                        "tool": function.get("name", ""),
                        "arguments": _parsed(function.get("arguments")),
                    }
                )
    return entries
