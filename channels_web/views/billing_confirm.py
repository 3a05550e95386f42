"""The confirm page between choosing a billing change and making it: the preview, and the button that
posts the change with its confirmation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from billing.services import preview_change
from billing.services.preview import BillingChange, PreviewNote
from botgeneric.errors import DomainError
from channels_web.forms import SubscribeForm
from channels_web.messages import describe_error
from channels_web.templatetags.catalog_text import localized_text
from channels_web.views.billing import _manager_organization, _plan_name, money_amount

NOTE_WORDS = {
    PreviewNote.CHECKOUT: gettext_lazy(
        "You pay on the payment provider's page; the change applies when the payment is confirmed."
    ),
    PreviewNote.CREDIT_NOT_APPLIED: gettext_lazy(
        "This payment method charges the full price: the unused part of your current period is not credited."
    ),
    PreviewNote.TRIAL_NOT_KEPT: gettext_lazy(
        "This payment method starts the paid period at once: the rest of your trial ends."
    ),
    PreviewNote.OTHER_CURRENCY: gettext_lazy(
        "Your current period was paid in another currency, so it cannot be credited."
    ),
    PreviewNote.NO_REFUND: gettext_lazy("Nothing is refunded."),
}
METRIC_WORDS = {
    "requests": gettext_lazy("Requests"),
    "tokens_input": gettext_lazy("Input tokens"),
    "tokens_output": gettext_lazy("Output tokens"),
    "members": gettext_lazy("Members"),
}


def _lost_features(preview) -> list[str]:
    """The lost features in the page's language: the current plan's translation at the same position."""
    current = preview.current_plan
    localized = localized_text(current, "features") if current else []
    return [
        localized[current.features.index(feature)] if len(localized) == len(current.features) else feature
        for feature in preview.lost.features
    ]


@login_required
@require_GET
def confirm_page(request):
    """`?plan=…&provider=…&currency=…` previews a subscription change, `?cancel=now` cancelling now."""
    organization = _manager_organization(request.user)
    cancel_now = request.GET.get("cancel") == "now"
    form = SubscribeForm(request.GET)
    if not cancel_now and not form.is_valid():
        messages.error(request, gettext_lazy("Choose a plan and a payment method."))
        return redirect("web:billing")
    try:
        if cancel_now:
            confirmable = preview_change(organization=organization, actor=request.user, cancel=True, immediate=True)
        else:
            confirmable = preview_change(
                organization=organization,
                actor=request.user,
                plan=form.cleaned_data["plan"],
                provider=form.cleaned_data["provider"],
                currency=form.cleaned_data["currency"] or None,
            )
    except DomainError as exc:
        messages.error(request, describe_error(exc).text)
        return redirect("web:billing")
    preview = confirmable.preview
    context = {
        "preview": preview,
        "confirmation": confirmable.confirmation,
        "change": preview.change,
        "undo": preview.change == BillingChange.UNDO_DOWNGRADE,
        "plan_name": _plan_name(preview.plan) if preview.plan else "",
        "current_plan_name": _plan_name(preview.current_plan) if preview.current_plan else "",
        "price": money_amount(preview.price),
        "credit": money_amount(preview.credit),
        "amount_due": money_amount(preview.amount_due),
        "lost_value": money_amount(preview.lost.value),
        "lost_features": _lost_features(preview),
        "lost_quotas": [(METRIC_WORDS[drop.metric], drop) for drop in preview.lost.quotas],
        "notes": [NOTE_WORDS[note] for note in preview.notes],
        "form": form.cleaned_data if not cancel_now else {},
    }
    return render(request, "web/billing_confirm.html", context)
