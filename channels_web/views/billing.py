"""Billing pages: plans in the account's currency, the subscription, usage meters, payment history."""

import math
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from billing.errors import BillingErrorCode
from billing.models import AccountStatus, Interval, PaymentStatus
from billing.providers import enabled_providers
from billing.selectors import (
    account_for,
    active_plans,
    grace_ends_at,
    invoice_for,
    is_operator_grant,
    payments_for,
)
from billing.services import cancel, resume, subscribe, undo_downgrade
from botgeneric.errors import DomainError
from channels_web.forms import CancelForm, SubscribeForm
from channels_web.messages import describe_error
from channels_web.templatetags.catalog_text import localized_text
from policy.selectors import usage_summary

CURRENT = (AccountStatus.TRIALING, AccountStatus.ACTIVE, AccountStatus.PAST_DUE)
PAYMENTS_SHOWN = 50
METER_WARN_PERCENT = 80
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
    """Which button a plan card offers: subscribe, upgrade, downgrade, pay (the plan whose renewal failed),
    or none for the plan being paid for."""
    if account is None or current_plan is None or account.status not in CURRENT:
        return "subscribe"
    if current_plan.pk == plan.pk:
        if account.status == AccountStatus.PAST_DUE:
            return "pay"
        return "subscribe" if account.status == AccountStatus.TRIALING else ""
    return "upgrade" if _rank(plan, currency) > _rank(current_plan, currency) else "downgrade"


def grouped(number) -> str:
    """10000 as '10,000' in English and '10 000' in Russian: the active language's grouping."""
    return number_format(number, force_grouping=True)


def money_amount(amount) -> str:
    return number_format(amount, decimal_pos=2, force_grouping=True)


def _quota_line(plan) -> str:
    """'10,000 requests per month': the plan's own interval, not "per period"."""
    if plan.quota_requests is None:
        return _("Unlimited requests")
    count = plan.quota_requests
    lines = {
        Interval.DAY: ngettext("%(count)s request per day", "%(count)s requests per day", count),
        Interval.WEEK: ngettext("%(count)s request per week", "%(count)s requests per week", count),
        Interval.MONTH: ngettext("%(count)s request per month", "%(count)s requests per month", count),
        Interval.YEAR: ngettext("%(count)s request per year", "%(count)s requests per year", count),
    }
    return lines[plan.interval] % {"count": grouped(count)}


def _meter(row: dict) -> dict:
    """A usage row with its numbers grouped and a level: warn from 80 %, full at 100 %."""
    limit, used = row["limit"], row["used"]
    percent = round(100 * used / limit) if limit else None
    level = ""
    if percent is not None:
        level = "full" if used >= limit else "warn" if percent >= METER_WARN_PERCENT else ""
    return {
        **row,
        "percent": percent,
        "level": level,
        "used_shown": grouped(used),
        "limit_shown": grouped(limit) if limit is not None else None,
        "bar_value": min(used, limit) if limit else used,
    }


def _plan_name(plan) -> str:
    return localized_text(plan, "name")


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
            "quota_line": _quota_line(plan),
        }
        for plan in offered
    ]
    for row in plans:
        row["amount"] = money_amount(row["price"].amount) if row["price"] else None
    trial_days_left = None
    if account and account.status == AccountStatus.TRIALING and account.trial_end:
        trial_days_left = max(0, math.ceil((account.trial_end - timezone.now()).total_seconds() / 86400))
    meters = [_meter(row) for row in (usage_summary(organization=organization) if account else [])]
    in_period = bool(account and account.status in CURRENT and account.current_period_end)
    in_period = in_period and account.current_period_end > timezone.now()
    context = {
        "account": account,
        "payment_overdue_until": grace_ends_at(account) if account else None,
        "current_plan_name": _plan_name(account.plan) if account and account.plan else "",
        "plans": plans,
        "meters": meters,
        "trial_days_left": trial_days_left,
        "status_label": STATUS_WORDS.get(account.status, account.status) if account else "",
        "period_end": account.current_period_end if in_period else None,
        # A grant always ends at its period end, so only such an account needs the audit read.
        "granted": in_period and account.cancel_at_period_end and is_operator_grant(account=account),
        "payments": [
            {
                "payment": payment,
                "amount": money_amount(payment.amount),
                "status_label": PAYMENT_STATUS_WORDS.get(payment.status, payment.status),
                "invoice": getattr(payment, "invoice", None),
            }
            for payment in payments_for(organization=organization).order_by("-created_at", "-id")[:PAYMENTS_SHOWN]
        ],
        "providers": enabled_providers(),
        "support_email": settings.SUPPORT_EMAIL,
        "can_manage": request.user.can_manage_organization,
    }
    return render(request, "web/billing.html", context)


def _manager_organization(user):
    organization = _organization(user)
    if not user.can_manage_organization:
        raise PermissionDenied
    return organization


def _back_to_confirm(request, query: str):
    return redirect(f"{reverse('web:billing_confirm')}?{query}")


@login_required
def invoice_page(request, invoice_id: int):
    """An invoice to view and print (print CSS): owners and admins only; another organization's is 404."""
    organization = _manager_organization(request.user)
    invoice = invoice_for(organization=organization, invoice_id=invoice_id)
    if invoice is None:
        raise Http404
    context = {
        "invoice": invoice,
        "amount": money_amount(invoice.amount),
        "plan_name": invoice.plan_name_ru
        if translation.get_language() == "ru" and invoice.plan_name_ru
        else invoice.plan_name,
        "seller": settings.INVOICE_SELLER,
        "provider": invoice.payment.get_provider_display(),
    }
    return render(request, "web/invoice.html", context)


@login_required
@require_POST
def subscribe_view(request):
    """Start, upgrade or downgrade as confirmed on the confirm page; a paying provider's checkout page
    comes back as a redirect. A stale confirmation shows the confirm page again with today's figures."""
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
            confirmation=form.cleaned_data["confirmation"],
        )
    except DomainError as exc:
        messages.error(request, describe_error(exc).text)
        if exc.code == BillingErrorCode.CONFIRMATION_STALE:
            choice = {name: form.cleaned_data[name] for name in ("plan", "provider", "currency")}
            return _back_to_confirm(request, urlencode(choice))
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
    """Cancel at the period end, or (confirmed on the confirm page) now."""
    organization = _manager_organization(request.user)
    form = CancelForm(request.POST)
    immediate = form.is_valid() and form.cleaned_data["immediate"]
    try:
        cancel(
            organization=organization,
            immediate=immediate,
            actor=request.user,
            confirmation=form.cleaned_data.get("confirmation") if form.is_valid() else None,
        )
    except DomainError as exc:
        messages.error(request, describe_error(exc).text)
        if exc.code == BillingErrorCode.CONFIRMATION_STALE:
            return _back_to_confirm(request, "cancel=now")
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


@login_required
@require_POST
def undo_downgrade_view(request):
    organization = _manager_organization(request.user)
    try:
        undo_downgrade(organization=organization, actor=request.user)
    except DomainError as exc:
        messages.error(request, describe_error(exc).text)
    else:
        messages.success(request, _("Your plan stays as it is; the scheduled change was undone."))
    return redirect("web:billing")
