"""Shapes of the billing API (SPEC §7); no logic beyond validation."""

from rest_framework import serializers

from billing.models import AccountStatus, PaymentProvider, PaymentStatus, WebhookOutcome
from billing.selectors import customer_facing_actor
from billing.services.preview import BillingChange, PreviewNote
from botgeneric.channels import CUSTOMER_CHANNELS


class PlanRef(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    interval = serializers.CharField()


class AccountOutput(serializers.Serializer):
    """An organization's subscription; an organization without an account reads as status none."""

    status = serializers.ChoiceField(choices=AccountStatus.choices)
    plan = PlanRef(allow_null=True)
    currency = serializers.CharField(allow_null=True)
    current_period_start = serializers.DateTimeField(allow_null=True)
    current_period_end = serializers.DateTimeField(allow_null=True)
    trial_end = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()
    scheduled_plan = PlanRef(allow_null=True)
    provider = serializers.CharField(allow_blank=True)

    @classmethod
    def of(cls, account) -> dict:
        if account is None:
            return cls(
                {
                    "status": AccountStatus.NONE,
                    "plan": None,
                    "currency": None,
                    "current_period_start": None,
                    "current_period_end": None,
                    "trial_end": None,
                    "cancel_at_period_end": False,
                    "scheduled_plan": None,
                    "provider": "",
                }
            ).data
        return cls(account).data


CONFIRMATION_HELP = "The `confirmation` from POST billing/preview with the same body."


class SubscribeInput(serializers.Serializer):
    plan = serializers.SlugField(max_length=40)
    provider = serializers.ChoiceField(choices=PaymentProvider.choices)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False, allow_null=True, default=None)
    return_url = serializers.URLField(max_length=1000, required=False, allow_blank=True, default="")
    confirmation = serializers.CharField(max_length=4000, required=False, allow_blank=True, help_text=CONFIRMATION_HELP)


class SubscribeOutput(AccountOutput):
    checkout_url = serializers.URLField(allow_null=True, help_text="Send the customer here to pay; null = done.")
    payment_id = serializers.IntegerField(allow_null=True)


class CancelInput(serializers.Serializer):
    immediate = serializers.BooleanField(default=False)
    confirmation = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, help_text=CONFIRMATION_HELP + " Required when immediate."
    )


class PreviewInput(serializers.Serializer):
    """The body of the change to preview: billing/subscribe's (action subscribe, the default when a plan
    is given) or billing/cancel's (action cancel)."""

    action = serializers.ChoiceField(choices=["subscribe", "cancel"], required=False)
    plan = serializers.SlugField(max_length=40, required=False)
    provider = serializers.ChoiceField(choices=PaymentProvider.choices, required=False)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False, allow_null=True, default=None)
    return_url = serializers.URLField(max_length=1000, required=False, allow_blank=True, default="")
    immediate = serializers.BooleanField(default=False)

    def validate(self, data):
        data["action"] = data.get("action") or ("subscribe" if "plan" in data else "cancel")
        if data["action"] == "subscribe":
            missing = {name: ["This field is required."] for name in ("plan", "provider") if name not in data}
            if missing:
                raise serializers.ValidationError(missing)
        return data


class AgentRef(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class QuotaDropOutput(serializers.Serializer):
    metric = serializers.ChoiceField(
        choices=["requests", "tokens_input", "tokens_output", "members"], help_text="members: seats"
    )
    current = serializers.IntegerField(allow_null=True, help_text="null = unlimited")
    new = serializers.IntegerField(allow_null=True, help_text="null = unlimited")


class LostOutput(serializers.Serializer):
    days = serializers.IntegerField(help_text="Whole paid (or trial) days that end unused.")
    value = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Their unused paid value.")
    currency = serializers.CharField(allow_blank=True)
    agents = AgentRef(many=True)
    features = serializers.ListField(child=serializers.CharField())
    channels = serializers.ListField(child=serializers.ChoiceField(choices=CUSTOMER_CHANNELS))
    quotas = QuotaDropOutput(many=True)


class PreviewOutput(serializers.Serializer):
    """What the change would do; send `confirmation` with the change before `confirmation_expires_at`."""

    change = serializers.ChoiceField(choices=BillingChange.choices)
    plan = PlanRef(allow_null=True)
    current_plan = PlanRef(allow_null=True)
    provider = serializers.CharField(allow_blank=True)
    currency = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="One period of the plan.")
    credit = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Unused paid time credited.")
    amount_due = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Charged now.")
    starts_at = serializers.DateTimeField(allow_null=True, help_text="When the new terms begin (cancel_now: ends).")
    period_end = serializers.DateTimeField(allow_null=True, help_text="End of the period bought (or of access).")
    trial_days_kept = serializers.IntegerField()
    lost = LostOutput()
    notes = serializers.ListField(child=serializers.ChoiceField(choices=PreviewNote.choices))
    confirmation = serializers.CharField()
    confirmation_expires_at = serializers.DateTimeField()

    @classmethod
    def of(cls, confirmable) -> dict:
        preview = confirmable.preview
        return cls(
            {
                **{name: getattr(preview, name) for name in cls.PREVIEW_FIELDS},
                "confirmation": confirmable.confirmation,
                "confirmation_expires_at": confirmable.expires_at,
            }
        ).data

    PREVIEW_FIELDS = (
        "change",
        "plan",
        "current_plan",
        "provider",
        "currency",
        "price",
        "credit",
        "amount_due",
        "starts_at",
        "period_end",
        "trial_days_kept",
        "lost",
        "notes",
    )


class PaymentInput(serializers.Serializer):
    provider = serializers.ChoiceField(choices=PaymentProvider.choices, help_text="A paying provider.")
    plan = serializers.SlugField(max_length=40, required=False, allow_null=True, default=None)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False, allow_null=True, default=None)
    return_url = serializers.URLField(max_length=1000, required=False, allow_blank=True, default="")


class PaymentOutput(serializers.Serializer):
    payment_id = serializers.IntegerField()
    provider_payment_id = serializers.CharField()
    confirmation_url = serializers.URLField()


class HistoryItem(serializers.Serializer):
    """One payment (kind=payment) or one subscription change (kind=change), newest first."""

    kind = serializers.ChoiceField(choices=["payment", "change"])
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    action = serializers.CharField(allow_null=True, help_text="change: e.g. subscription.canceled")
    actor = serializers.CharField(allow_null=True)
    before = serializers.DictField(allow_null=True)
    after = serializers.DictField(allow_null=True)
    provider = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=PaymentStatus.choices, allow_null=True)
    plan = serializers.CharField(allow_null=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField(allow_null=True)
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)

    @classmethod
    def of(cls, kind: str, row) -> dict:
        if kind == "payment":
            item = {
                "action": None,
                "actor": None,
                "before": None,
                "after": None,
                "provider": row.provider,
                "status": row.status,
                "plan": row.plan.code if row.plan_id else None,
                "amount": row.amount,
                "currency": row.currency,
                "period_start": row.period_start,
                "period_end": row.period_end,
            }
        else:
            item = {
                "action": row.action,
                "actor": customer_facing_actor(row.actor_label),
                "before": row.before,
                "after": row.after,
                **dict.fromkeys(["provider", "status", "plan", "amount", "currency", "period_start", "period_end"]),
            }
        return cls({"kind": kind, "id": row.pk, "created_at": row.created_at, **item}).data


class HistoryPage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = HistoryItem(many=True)


class WebhookOutput(serializers.Serializer):
    event_id = serializers.CharField()
    outcome = serializers.ChoiceField(choices=WebhookOutcome.choices)
