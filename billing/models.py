from django.db import models

from botgeneric.channels import CUSTOMER_CHANNELS


class Interval(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week"
    MONTH = "month", "Month"
    YEAR = "year", "Year"


class Plan(models.Model):
    """What a customer buys: a period, quotas per period, channels and the agents it includes."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    name_ru = models.CharField(max_length=80, blank=True)
    description = models.TextField(blank=True)
    description_ru = models.TextField("description (Russian)", blank=True)
    interval = models.CharField(max_length=8, choices=Interval.choices)
    trial_days = models.PositiveSmallIntegerField(default=0)
    quota_requests = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests per period; empty = unlimited."
    )
    quota_tokens_input = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Input tokens per period; empty = unlimited."
    )
    quota_tokens_output = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Output tokens per period; empty = unlimited."
    )
    max_members = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Seats: people an organization on this plan may have, pending invitations included; "
        "empty = unlimited.",
    )
    channels = models.JSONField(
        default=list, blank=True, help_text=f"Any of: {', '.join(value for value, _label in CUSTOMER_CHANNELS)}"
    )
    features = models.JSONField(default=list, blank=True)
    features_ru = models.JSONField("features (Russian)", default=list, blank=True)
    is_active = models.BooleanField(default=True)
    is_free = models.BooleanField(
        default=False,
        help_text="Costs nothing: customers may take it without paying. A plan without prices is not free "
        "unless this is set (or its prices are 0); operators can still grant any plan.",
    )
    display_order = models.PositiveSmallIntegerField(default=0)
    agents = models.ManyToManyField("agents.Agent", through="PlanAgent", related_name="plans", blank=True)

    class Meta:
        ordering = ["display_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    (models.Q(quota_requests__isnull=True) | models.Q(quota_requests__gte=0))
                    & (models.Q(quota_tokens_input__isnull=True) | models.Q(quota_tokens_input__gte=0))
                    & (models.Q(quota_tokens_output__isnull=True) | models.Q(quota_tokens_output__gte=0))
                ),
                name="plan_quotas_non_negative",
            )
        ]

    def __str__(self):
        return self.name


class PlanPrice(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    provider_ref = models.CharField(max_length=120, blank=True, help_text="e.g. the Paddle price id (pri_…)")

    class Meta:
        ordering = ["plan_id", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "currency"], name="plan_price_unique_currency"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="plan_price_non_negative"),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency}"


class PlanAgent(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="plan_agents")
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="plan_agents")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "agent"], name="plan_agent_unique")]
        indexes = [models.Index(fields=["agent", "plan"])]

    def __str__(self):
        return f"{self.plan} · {self.agent}"


class AccountStatus(models.TextChoices):
    NONE = "none", "None"
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELED = "canceled", "Canceled"
    EXPIRED = "expired", "Expired"


class PaymentProvider(models.TextChoices):
    MANUAL = "manual", "Manual"
    PADDLE = "paddle", "Paddle"
    YOOKASSA = "yookassa", "YooKassa"


class BillingAccount(models.Model):
    """One per organization: the plan it is on and the state of its subscription."""

    organization = models.OneToOneField(
        "tenants.Organization", on_delete=models.CASCADE, related_name="billing_account"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=AccountStatus.choices, default=AccountStatus.NONE)
    currency = models.CharField(max_length=3, default="USD")
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    trial_used = models.BooleanField(default=False)
    cancel_at_period_end = models.BooleanField(default=False)
    scheduled_plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="Downgrade at period end."
    )
    past_due_since = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=16, choices=PaymentProvider.choices, blank=True)
    provider_customer_id = models.CharField(max_length=120, blank=True)
    provider_subscription_id = models.CharField(max_length=120, blank=True, db_index=True)
    provider_payment_method_id = models.CharField(max_length=120, blank=True)
    provider_event_at = models.DateTimeField(
        null=True, blank=True, help_text="When the newest applied provider event happened; older ones are ignored."
    )
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "current_period_end"])]

    def __str__(self):
        return f"{self.organization} · {self.plan or '-'} · {self.status}"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    CANCELED = "canceled", "Canceled"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"


class Payment(models.Model):
    account = models.ForeignKey(BillingAccount, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=16, choices=PaymentProvider.choices)
    external_id = models.CharField(max_length=120)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    confirmation_url = models.URLField(max_length=1000, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("view_revenue", "Can view the revenue report")]
        constraints = [
            models.UniqueConstraint(fields=["provider", "external_id"], name="payment_unique_external_id"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="payment_amount_non_negative"),
        ]

    def __str__(self):
        return f"{self.provider}:{self.external_id} {self.amount} {self.currency} {self.status}"


class WebhookOutcome(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Refused"
    DEAD = "dead", "Dead (gave up retrying)"


class WebhookEvent(models.Model):
    """Every provider event, stored raw before processing; (provider, event_id) makes replays no-ops."""

    provider = models.CharField(max_length=16, choices=PaymentProvider.choices)
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=80)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=WebhookOutcome.choices, default=WebhookOutcome.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the periodic retry tries a failed event again."
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_unique")]

    def __str__(self):
        return f"{self.provider}:{self.event_type}:{self.event_id}"


class InvoiceSequence(models.Model):
    """The last invoice number an issuer gave in a year; moved only by one UPDATE inside the transaction
    that issues the invoice, so numbers are gapless: a rolled-back payment gives its number back."""

    issuer = models.CharField(max_length=16)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "year"], name="invoice_sequence_unique")]

    def __str__(self):
        return f"{self.issuer}-{self.year}: {self.last_number}"


class Invoice(models.Model):
    """The numbered receipt of one succeeded payment (INV-2026-000123), with what it paid for as it was then."""

    account = models.ForeignKey(BillingAccount, on_delete=models.PROTECT, related_name="invoices")
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="invoice")
    issuer = models.CharField(max_length=16)
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    number = models.CharField(max_length=40, unique=True)
    issued_at = models.DateTimeField()
    customer_name = models.CharField(max_length=200)
    plan_name = models.CharField(max_length=80, blank=True)
    plan_name_ru = models.CharField(max_length=80, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "year", "sequence"], name="invoice_number_unique"),
        ]

    def __str__(self):
        return self.number
