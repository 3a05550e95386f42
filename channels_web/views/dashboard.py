"""The dashboard: pick an agent the policy allows, send a message, read the answer, continue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.conversations import delete_conversation, rename_conversation
from agents.models import MessageRole
from agents.selectors import (
    access_agent,
    access_conversation,
    conversations_for,
    messages_of,
    search_conversations,
)
from agents.services import invoke
from billing.models import AccountStatus
from billing.selectors import account_for, agents_in_other_plans, grace_ends_at
from botgeneric.channels import Channel
from botgeneric.errors import DomainError
from channels_web.forms import RenameForm, SendForm
from channels_web.messages import describe_error
from policy.selectors import agents_for

# The last answer's usage survives the post/redirect/get hop in the session.
LAST_RESULT_KEY = "web_last_result"
RECENT_CONVERSATIONS = 20
SEARCH_MAX_CHARS = 100
ENDED = (AccountStatus.CANCELED, AccountStatus.EXPIRED)


def _conversation_or_404(user, conversation_id):
    try:
        return access_conversation(user=user, conversation_id=conversation_id)
    except DomainError as exc:
        if exc.http_status == 404:
            raise Http404 from None
        raise


def agent_for_message(user, data) -> tuple[object, object]:
    """The agent and conversation a posted message goes to. A conversation keeps its agent: whatever
    agent a form names, a message in a conversation goes to the agent it began with."""
    conversation = _conversation_or_404(user, data["conversation"]) if data.get("conversation") else None
    agent = access_agent(agent_id=conversation.agent_id if conversation else data["agent"])
    return agent, conversation


def _no_agents_reason(account, user) -> str:
    """Why the page offers no agent: the organization's pending deletion, no subscription, an ended one,
    or a plan without web agents."""
    if user.organization_id and user.organization.pending_deletion:
        return "pending_deletion"
    if account is None or account.plan_id is None or account.status == AccountStatus.NONE:
        return "no_subscription"
    return "ended" if account.status in ENDED else "no_web_agents"


@login_required
def dashboard(request, conversation_id: int | None = None):
    user = request.user
    agents = list(agents_for(user=user, channel=Channel.WEB))
    # By id: the organization row itself is not needed (one query, the account with its plans).
    account = account_for(organization=user.organization_id) if user.organization_id else None
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
    search = request.GET.get("q", "").strip()[:SEARCH_MAX_CHARS]
    conversations = conversations_for(user=user)
    if search:
        conversations = search_conversations(conversations, text=search)
    context = {
        "agents": agents,
        "locked_agents": agents_in_other_plans(exclude_ids=[agent.pk for agent in agents]),
        "no_agents_reason": "" if agents else _no_agents_reason(account, user),
        "form": form,
        "rename_form": RenameForm(initial={"title": conversation.title}) if conversation else None,
        "conversation": conversation,
        "history": _exchanges(messages_of(conversation=conversation)) if conversation else [],
        "conversations": list(conversations[:RECENT_CONVERSATIONS]),
        "search": search,
        "last_result": last_result,
        "error": error,
        "payment_overdue_until": grace_ends_at(account) if account is not None else None,
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
    agent, conversation = agent_for_message(user, data)
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


@login_required
@require_POST
def conversation_rename(request, conversation_id: int):
    conversation = _conversation_or_404(request.user, conversation_id)
    form = RenameForm(request.POST)
    if form.is_valid():
        rename_conversation(conversation=conversation, title=form.cleaned_data["title"])
        messages.success(request, _("Conversation renamed."))
    else:
        messages.error(request, _("A title can have at most %(max)s characters.") % {"max": RenameForm.MAX_LENGTH})
    return redirect("web:conversation", conversation_id=conversation.pk)


@login_required
@require_POST
def conversation_delete(request, conversation_id: int):
    delete_conversation(conversation=_conversation_or_404(request.user, conversation_id))
    messages.success(request, _("Conversation deleted."))
    return redirect("web:dashboard")
