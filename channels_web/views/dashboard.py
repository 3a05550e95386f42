"""The dashboard: pick an agent the policy allows, send a message, read the answer, continue."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from agents.models import MessageRole
from agents.selectors import access_agent, access_conversation, conversations_for, messages_of
from agents.services import invoke
from botgeneric.channels import Channel
from botgeneric.errors import DomainError
from channels_web.forms import SendForm
from channels_web.messages import describe_error
from policy.selectors import agents_for

# The last answer's usage survives the post/redirect/get hop in the session.
LAST_RESULT_KEY = "web_last_result"
RECENT_CONVERSATIONS = 20


def _conversation_or_404(user, conversation_id):
    try:
        return access_conversation(user=user, conversation_id=conversation_id)
    except DomainError as exc:
        if exc.http_status == 404:
            raise Http404 from None
        raise


@login_required
def dashboard(request, conversation_id: int | None = None):
    user = request.user
    agents = list(agents_for(user=user, channel=Channel.WEB))
    conversation = _conversation_or_404(user, conversation_id) if conversation_id is not None else None
    error, status = None, 200
    if request.method == "POST":
        form = SendForm(request.POST, agents=agents)
        if form.is_valid():
            try:
                return _send(request, form.cleaned_data)
            except DomainError as exc:
                error, status = describe_error(exc), exc.http_status
            if form.cleaned_data.get("conversation"):
                conversation = _conversation_or_404(user, form.cleaned_data["conversation"])
        else:
            status = 400
    else:
        initial = {"agent": conversation.agent_id, "conversation": conversation.pk} if conversation else {}
        form = SendForm(agents=agents, initial=initial)
    last_result = request.session.get(LAST_RESULT_KEY)
    if not conversation or not last_result or last_result.get("conversation_id") != conversation.pk:
        last_result = None
    context = {
        "agents": agents,
        "form": form,
        "conversation": conversation,
        "history": _exchanges(messages_of(conversation=conversation)) if conversation else [],
        "conversations": list(conversations_for(user=user)[:RECENT_CONVERSATIONS]),
        "last_result": last_result,
        "error": error,
    }
    return render(request, "web/dashboard.html", context, status=status)


def _exchanges(messages) -> list[dict]:
    """Messages with each answer's usage: its prompt's input tokens (stored on the question) and its output."""
    rows, tokens_input = [], 0
    for message in messages:
        if message.role == MessageRole.USER:
            tokens_input = message.tokens_input
            rows.append({"message": message})
        else:
            rows.append(
                {
                    "message": message,
                    "tokens_input": message.tokens_input or tokens_input,
                    "tokens_output": message.tokens_output,
                }
            )
    return rows


def _send(request, data):
    """Invoke the agent and redirect to the conversation (post/redirect/get, so reload never re-sends)."""
    user = request.user
    conversation = _conversation_or_404(user, data["conversation"]) if data.get("conversation") else None
    agent = access_agent(agent_id=data["agent"])
    if conversation is not None and conversation.agent_id != agent.pk:
        conversation = None
    result = invoke(user=user, agent=agent, channel=Channel.WEB, input=data["input"], conversation=conversation)
    request.session[LAST_RESULT_KEY] = {
        "conversation_id": result.conversation.pk,
        "tokens_input": result.tokens_input,
        "tokens_output": result.tokens_output,
        "latency_ms": result.latency_ms,
        "prompt_version": result.prompt_version,
        "is_demo": result.is_demo,
    }
    return redirect("web:conversation", conversation_id=result.conversation.pk)
