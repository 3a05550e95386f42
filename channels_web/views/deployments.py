"""The deployments page: the organization's agents on its own Telegram bot or website widget. Everyone in
the organization sees them; owners and admins deploy, pause, resume and delete (deployments.services
says who may, the policy whether the plan allows it)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from botgeneric.errors import DomainError
from channels_web.deployment_forms import DeploymentStatusForm, TelegramDeploymentForm, WidgetDeploymentForm
from channels_web.messages import ErrorMessage, describe_error
from deployments import selectors, services
from deployments.models import DeploymentChannel, DeploymentStatus
from policy.errors import DenyCode, PolicyDenied
from policy.selectors import agents_for


def upgrade_prompt(user) -> ErrorMessage | None:
    """Why the plan does not give deployments, in the page's words with a link to the fix; None when it does."""
    try:
        services.require_deployments(organization_id=user.organization_id)
    except PolicyDenied as denied:
        plans = [plan.get("name") or plan.get("code") for plan in denied.extra.get("upgrade_plans") or []]
        if denied.code != DenyCode.FEATURE_NOT_IN_PLAN or not plans:
            return describe_error(denied)
        text = _(
            "Your plan does not include deployments (your agents on your own Telegram bot and website). "
            "Upgrade to %(plans)s to use them."
        ) % {"plans": _(" or ").join(plans)}
        return ErrorMessage(text, reverse("web:billing"), _("See plans"))
    return None


def access_or_404(user, deployment_id: int):
    try:
        return selectors.access_deployment(user=user, deployment_id=deployment_id)
    except selectors.NotFound:
        raise Http404 from None


def _deployable_agents(user, channel: str) -> list:
    """The agents the plan allows on `channel` (the policy's list): none when the plan lacks the channel."""
    return sorted(agents_for(user=user, channel=channel), key=lambda agent: (agent.name, agent.pk))


def _page(request, *, telegram_form=None, widget_form=None, error=None, status=200):
    user = request.user
    upgrade = upgrade_prompt(user)
    offered = user.can_manage_organization and upgrade is None
    telegram_agents = _deployable_agents(user, DeploymentChannel.TELEGRAM) if offered else []
    widget_agents = _deployable_agents(user, DeploymentChannel.WIDGET) if offered else []
    widget_script = request.build_absolute_uri(static("widget/widget.js"))
    context = {
        "deployments": list(selectors.deployments_for(organization_id=user.organization_id)),
        "upgrade": upgrade,
        "can_manage": user.can_manage_organization,
        "telegram_form": telegram_form or TelegramDeploymentForm(agents=telegram_agents),
        "widget_form": widget_form or WidgetDeploymentForm(agents=widget_agents),
        "telegram_offered": bool(telegram_agents) or telegram_form is not None,
        "widget_offered": bool(widget_agents) or widget_form is not None,
        "widget_script": widget_script,
        "error": error,
    }
    return render(request, "web/deployments.html", context, status=status)


@login_required
def deployments_page(request):
    return _page(request)


def _field_hints() -> dict[str, str]:
    return {
        "telegram_bot_token": _(
            "Telegram does not accept this token. Paste the one @BotFather gave you (123456:ABC…)."
        ),
        "allowed_origins": _(
            "Enter website origins such as https://shop.example.com, one per line: a scheme and a host "
            "(and a port), nothing after it; at most 20."
        ),
    }


def _field_errors(form, error: DomainError) -> None:
    """The service's refusal on the form: next to the field it names (in the page's words), else above it."""
    hints = _field_hints()
    fields = [name for name in error.extra.get("fields") or {} if name in form.fields and name in hints]
    for name in fields:
        form.add_error(name, hints[name])
    if not fields:
        form.add_error(None, describe_error(error).text)


@login_required
@require_POST
def deployment_create(request):
    """Deploy from one of the two forms (`channel` says which); a refusal shows the form again with its reason."""
    user = request.user
    channel = request.POST.get("channel")
    if channel not in DeploymentChannel.values:
        raise Http404
    agents = _deployable_agents(user, channel)
    form_class = TelegramDeploymentForm if channel == DeploymentChannel.TELEGRAM else WidgetDeploymentForm
    form = form_class(request.POST, agents=agents)
    forms = {"telegram_form": form} if channel == DeploymentChannel.TELEGRAM else {"widget_form": form}
    if not form.is_valid():
        return _page(request, **forms, status=400)
    try:
        deployment = services.create_deployment(
            actor=user,
            agent_id=form.cleaned_data["agent"],
            channel=channel,
            name=form.cleaned_data["name"],
            telegram_bot_token=form.cleaned_data.get("telegram_bot_token", ""),
            allowed_origins=form.origins() if channel == DeploymentChannel.WIDGET else None,
            webhook_base_url=request.build_absolute_uri("/"),
        )
    except DomainError as error:
        if not user.can_manage_organization:
            return _page(request, error=describe_error(error), status=error.http_status)
        _field_errors(form, error)
        return _page(request, **forms, status=error.http_status)
    if deployment.channel == DeploymentChannel.TELEGRAM:
        text = _("@%(bot)s is connected: its clients now talk to the agent.") % {"bot": deployment.bot_username}
        messages.success(request, text)
    else:
        messages.success(request, _("The widget is ready: paste its code into your website."))
    return redirect(f"{reverse('web:deployments')}#deployment-{deployment.pk}")


@login_required
@require_POST
def deployment_status(request, deployment_id: int):
    deployment = access_or_404(request.user, deployment_id)
    form = DeploymentStatusForm(request.POST)
    if not form.is_valid():
        return redirect("web:deployments")
    try:
        services.update_deployment(deployment=deployment, actor=request.user, status=form.cleaned_data["status"])
    except DomainError as error:
        messages.error(request, describe_error(error).text)
    else:
        if deployment.status == DeploymentStatus.PAUSED:
            messages.success(request, _("Paused: clients are told the assistant cannot answer right now."))
        else:
            messages.success(request, _("Resumed: the agent answers clients again."))
    return redirect("web:deployments")


@login_required
def deployment_delete(request, deployment_id: int):
    """GET asks to confirm; POST deletes (the bot is disconnected; its clients and conversations stay)."""
    deployment = access_or_404(request.user, deployment_id)
    if request.method != "POST":
        return render(request, "web/deployment_delete.html", {"deployment": deployment})
    try:
        services.delete_deployment(deployment=deployment, actor=request.user)
    except DomainError as error:
        messages.error(request, describe_error(error).text)
    else:
        messages.success(request, _("The deployment was deleted."))
    return redirect("web:deployments")
