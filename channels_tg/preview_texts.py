"""What the bot says before a plan change: the preview the customer confirms with a button."""

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.services.preview import BillingChange, Preview, PreviewNote
from channels_tg.texts import _when, metric_word, plan_name


def _headline(preview: Preview, locale: str) -> str:
    name = plan_name(preview.plan, locale) if preview.plan else ""
    headlines = {
        BillingChange.SUBSCRIBE: _("Subscribe to %(plan)s"),
        BillingChange.UPGRADE: _("Upgrade to %(plan)s"),
        BillingChange.DOWNGRADE: _("Downgrade to %(plan)s at the end of the current period"),
        BillingChange.UNDO_DOWNGRADE: _("Stay on %(plan)s"),
    }
    return headlines[preview.change] % {"plan": name}


def _notes(preview: Preview) -> list[str]:
    words = {
        PreviewNote.CHECKOUT: _("You will get a link to pay; the change applies when the payment goes through."),
        PreviewNote.CREDIT_NOT_APPLIED: _(
            "This payment method charges the full price: the unused part of your current period is not credited."
        ),
        PreviewNote.TRIAL_NOT_KEPT: _(
            "This payment method starts the paid period at once: the rest of your trial ends."
        ),
        PreviewNote.OTHER_CURRENCY: _("Your current period was paid in another currency, so it cannot be credited."),
        PreviewNote.NO_REFUND: _("Nothing is refunded."),
    }
    return [words[note] for note in preview.notes]


def _lost(preview: Preview) -> list[str]:
    lost = preview.lost
    items = []
    if lost.days:
        days = ngettext("%(count)s unused day", "%(count)s unused days", lost.days) % {"count": lost.days}
        items.append(f"{days} ({lost.value} {lost.currency})" if lost.value else days)
    items += [_("agent %(name)s") % {"name": agent.name} for agent in lost.agents]
    items += list(lost.features)
    items += [_("channel %(channel)s") % {"channel": channel} for channel in lost.channels]
    for drop in lost.quotas:
        before = _("unlimited") if drop.current is None else drop.current
        metric = _("members") if drop.metric == "members" else metric_word(drop.metric)
        items.append(f"{metric}: {before} → {drop.new}")
    return items


def change_preview(*, locale: str, preview: Preview) -> str:
    """The plan change in a few lines: the price, the credit, what is charged now, when the period ends,
    the trial days kept, what is lost."""
    with translation.override(locale):
        currency = preview.currency
        lines = [_headline(preview, locale)]
        lines.append(_("Price: %(amount)s %(currency)s") % {"amount": preview.price, "currency": currency})
        if preview.credit:
            lines.append(
                _("Credit for unused paid time: %(amount)s %(currency)s")
                % {"amount": preview.credit, "currency": currency}
            )
        lines.append(_("Charged now: %(amount)s %(currency)s") % {"amount": preview.amount_due, "currency": currency})
        lines.append(_("The paid period ends: %(when)s") % {"when": _when(preview.period_end)})
        if preview.trial_days_kept:
            lines.append(
                ngettext("%(count)s trial day is kept.", "%(count)s trial days are kept.", preview.trial_days_kept)
                % {"count": preview.trial_days_kept}
            )
        lost = _lost(preview)
        if lost:
            lines.append(_("You lose: %(items)s") % {"items": "; ".join(str(item) for item in lost)})
        lines += _notes(preview)
        return "\n".join(lines)


def confirm_button(*, locale: str) -> str:
    with translation.override(locale):
        return _("Confirm")


def dismiss_button(*, locale: str) -> str:
    with translation.override(locale):
        return _("Not now")


def change_dismissed(*, locale: str) -> str:
    with translation.override(locale):
        return _("Nothing was changed. /subscribe shows the plans again.")
