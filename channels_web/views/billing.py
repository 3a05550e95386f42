"""Billing pages: plans in the account's currency, the subscription, usage meters, payment history."""

import math
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.models import AccountStatus, PaymentStatus
from billing.providers import enabled_providers
from billing.selectors import account_for, active_plans, payments_for
from billing.services import cancel, resume, subscribe
from botgeneric.errors import DomainError
from channels_web.forms import CancelForm, SubscribeForm
from channels_web.messages import describe_error
from usage.selectors import usage_summary

CURRENT = (AccountStatus.TRIALING, AccountStatus.ACTIVE, AccountStatus.PAST_DUE)
PAYMENTS_SHOWN = 50
STATUS_WORDS = {
    AccountStatus.NONE: gettext_lazy("No subscription"),
    AccountStatus.TRIALING: gettext_lazy("Trial"),
    AccountStatus.ACTIVE: gettext_lazy("Active"),
    AccountStatus.PAST_DUE: gettext_lazy("Payment overdue"),
    AccountStatus.CANCELED: gettext_lazy("Canceled"),
    AccountStatus.EXPIRED: gettext_lazy("Expired"),
}
PAYMENT_STATUS_WORDS = {
    PaymentStatus.PENDING: gettext_lazy("Pending"),
    PaymentStatus.SUCCEEDED: gettext_lazy("Paid"),
    PaymentStatus.CANCELED: gettext_lazy("Canceled"),
    PaymentStatus.FAILED: gettext_lazy("Failed"),
    PaymentStatus.REFUNDED: gettext_lazy("Refunded"),
}


def _organization(user):
    if not user.organization_id:
        raise PermissionDenied
    return user.organization


def _price(plan, currency: str):
    prices = list(plan.prices.all())
    return next((p for p in prices if p.currency == currency), None) or next(
        (p for p in prices if p.currency == "USD"), prices[0] if prices else None
    )


def _rank(plan, currency: str) -> tuple:
    """Cheaper per period (display order breaks ties) is lower — the same order billing uses for downgrades."""
    price = next((p.amount for p in plan.prices.all() if p.currency == currency), None)
    return (price if price is not None else Decimal(-1), plan.display_order)


def _action(account, current_plan, plan, currency: str) -> str:
    """Which button a plan card offers: subscribe, upgrade, downgrade, or none for the plan being paid for."""
    if account is None or current_plan is None or account.status not in CURRENT:
        return "subscribe"
    if current_plan.pk == plan.pk:
        return "subscribe" if account.status == AccountStatus.TRIALING else ""
    return "upgrade" if _rank(plan, currency) > _rank(current_plan, currency) else "downgrade"


def _plan_name(plan) -> str:
    return plan.name_ru if get_language() == "ru" and plan.name_ru else plan.name


@login_required
def billing_page(request):
    organization = _organization(request.user)
    account = account_for(organization=organization)
    currency = account.currency if account else "USD"
    offered = list(active_plans())
    # The current plan from the prefetched list (its prices are loaded), unless it is no longer offered.
    current_plan = next((plan for plan in offered if account and plan.pk == account.plan_id), None)
    if current_plan is None and account is not None:
        current_plan = account.plan
    plans = [
        {
            "plan": plan,
            "name": _plan_name(plan),
            "price": _price(plan, currency),
            "action": _action(account, current_plan, plan, currency),
            "is_current": bool(account and account.plan_id == plan.pk and account.status in CURRENT),
        }
        for plan in offered
    ]
    trial_days_left = None
    if account and account.status == AccountStatus.TRIALING and account.trial_end:
        trial_days_left = max(0, math.ceil((account.trial_end - timezone.now()).total_seconds() / 86400))
    meters = [
        {**row, "percent": min(100, round(100 * row["used"] / row["limit"])) if row["limit"] else None}
        for row in (usage_summary(organization=organization) if account else [])
    ]
    context = {
        "account": account,
        "current_plan_name": _plan_name(account.plan) if account and account.plan else "",
        "plans": plans,
        "meters": meters,
        "trial_days_left": trial_days_left,
        "status_label": STATUS_WORDS.get(account.status, account.status) if account else "",
        "payments": [
            {"payment": payment, "status_label": PAYMENT_STATUS_WORDS.get(payment.status, payment.status)}
            for payment in payments_for(organization=organization).order_by("-created_at", "-id")[:PAYMENTS_SHOWN]
        ],
        "providers": enabled_providers(),
        "can_manage": request.user.can_manage_organization,
    }
    return render(request, "web/billing.html", context)


def _manager_organization(user):
    organization = _organization(user)
    if not user.can_manage_organization:
        raise PermissionDenied
    return organization


@login_required
@require_POST
def subscribe_view(request):
    """Start, upgrade or downgrade; a paying provider's checkout page comes back as a redirect."""
    organization = _manager_organization(request.user)
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a plan and a payment method."))
        return redirect("web:billing")
    try:
        result = subscribe(
            organization=organization,
            plan=form.cleaned_data["plan"],
            provider=form.cleaned_data["provider"],
            currency=form.cleaned_data["currency"] or None,
            actor=request.user,
            return_url=request.build_absolute_uri(reverse("web:billing")),
        )
    except DomainError as exc:
        messages.error(request, describe_error(exc).text)
        return redirect("web:billing")
    if result.checkout_url:
        return redirect(result.checkout_url)
    account = result.account
    if account.scheduled_plan_id:
        messages.success(request, _("Your plan will change at the end of the current period."))
    else:
        messages.success(request, _("Your subscription is active."))
    return redirect("web:billing")


@login_required
@require_POST
def cancel_view(request):
    organization = _manager_organization(request.user)
    form = CancelForm(request.POST)
    immediate = form.is_valid() and form.cleaned_data["immediate"]
    try:
        cancel(organization=organization, immediate=immediate, actor=request.user)
    except DomainError as exc:
        messages.error(request, describe_error(exc).text)
    else:
        messages.success(
            request,
            _("Your subscription was canceled.")
            if immediate
            else _("Your subscription will end at the end of the current period."),
        )
    return redirect("web:billing")


@login_required
@require_POST
def resume_view(request):
    organization = _manager_organization(request.user)
    try:
        resume(organization=organization, actor=request.user)
    except DomainError as exc:
        messages.error(request, describe_error(exc).text)
    else:
        messages.success(request, _("Your subscription continues."))
    return redirect("web:billing")
