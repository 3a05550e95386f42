from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce

from botgeneric.channels import Channel


class Outcome(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
    DENIED = "denied", "Denied"


class UsageEvent(models.Model):
    """One row per call on any channel, denials and failures included."""

    organization = models.ForeignKey(
        "tenants.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="usage_events"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agent = models.ForeignKey("agents.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    prompt_version = models.ForeignKey(
        "prompts.PromptVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    model = models.CharField(max_length=120, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    error_code = models.CharField(max_length=64, blank=True)
    tokens_input = models.PositiveIntegerField(default=0)
    tokens_output = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    audio_seconds = models.PositiveIntegerField(default=0, help_text="Seconds of audio transcribed (measured).")
    cost_usd = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self):
        return f"{self.channel} {self.outcome} {self.created_at:%Y-%m-%d %H:%M}"


class PeriodCounter(models.Model):
    """What a billing account used in one billing period; changed only by conditional UPDATEs."""

    account = models.ForeignKey("billing.BillingAccount", on_delete=models.CASCADE, related_name="period_counters")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)
    tokens_input = models.PositiveBigIntegerField(default=0)
    tokens_output = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "period_start"], name="period_counter_unique"),
        ]

    def __str__(self):
        return f"{self.account_id} {self.period_start:%Y-%m-%d}: {self.requests} requests"


#: Upper bounds (ms) of the latency histogram kept per roll-up row; a last, open bucket holds the rest.
LATENCY_BUCKETS_MS = (250, 500, 1000, 2000, 4000, 8000, 15000, 30000, 60000)


class DailySums(models.Model):
    """What a roll-up row adds up over the usage events of one UTC day with the same key."""

    day = models.DateField()
    requests = models.PositiveBigIntegerField(default=0)
    ok = models.PositiveBigIntegerField(default=0)
    denied = models.PositiveBigIntegerField(default=0)
    failed = models.PositiveBigIntegerField(default=0)
    tokens_input = models.PositiveBigIntegerField(default=0)
    tokens_output = models.PositiveBigIntegerField(default=0)
    audio_seconds = models.PositiveBigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=18, decimal_places=8, default=0)
    latency_ms_sum = models.PositiveBigIntegerField(default=0, help_text="Of the answered (ok) calls.")
    # Answered calls per latency bucket: lat_250 counts those ≤ 250 ms, …, lat_over those > 60 s.
    lat_250 = models.PositiveBigIntegerField(default=0)
    lat_500 = models.PositiveBigIntegerField(default=0)
    lat_1000 = models.PositiveBigIntegerField(default=0)
    lat_2000 = models.PositiveBigIntegerField(default=0)
    lat_4000 = models.PositiveBigIntegerField(default=0)
    lat_8000 = models.PositiveBigIntegerField(default=0)
    lat_15000 = models.PositiveBigIntegerField(default=0)
    lat_30000 = models.PositiveBigIntegerField(default=0)
    lat_60000 = models.PositiveBigIntegerField(default=0)
    lat_over = models.PositiveBigIntegerField(default=0)

    class Meta:
        abstract = True


def _kept_id(model: str, **options):
    """A key column that outlives its row: no foreign-key constraint, so deleting a member, agent or provider
    keeps its history."""
    return models.ForeignKey(
        model, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+", **options
    )


class UsageDaily(DailySums):
    """The usage events of one UTC day summed per organization, member, agent, channel, model and provider:
    the customer's analytics read it, one organization at a time.

    Filled only by `usage.rollups.roll_up()` (with the two coarser roll-ups below, from the same events).
    Rows of the same key are merged on PostgreSQL and SQLite alike (a unique index on the key, NULLs as 0).
    """

    organization = models.ForeignKey(
        "tenants.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    user = _kept_id(settings.AUTH_USER_MODEL)
    agent = _kept_id("agents.Agent")
    provider = _kept_id("agents.LLMProvider", help_text="The prompt version's provider; empty = the default one.")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    model = models.CharField(max_length=120, blank=True)

    class Meta:
        verbose_name = "daily usage"
        verbose_name_plural = "daily usage"
        constraints = [
            models.UniqueConstraint(
                "day",
                Coalesce("organization_id", 0),
                Coalesce("user_id", 0),
                Coalesce("agent_id", 0),
                Coalesce("provider_id", 0),
                "channel",
                "model",
                name="usage_daily_key",
            )
        ]
        indexes = [models.Index(fields=["organization", "day"]), models.Index(fields=["day"])]

    def __str__(self):
        return f"{self.day} {self.organization_id} {self.agent_id} {self.channel}: {self.requests}"


class OrganizationAgentSums(DailySums):
    """The key of the margin roll-ups: one organization and one agent."""

    organization = models.ForeignKey(
        "tenants.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    agent = _kept_id("agents.Agent")

    class Meta:
        abstract = True


class OrganizationDaily(OrganizationAgentSums):
    """All calls of one UTC day per organization and agent: margins and the costliest organizations."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "day", Coalesce("organization_id", 0), Coalesce("agent_id", 0), name="usage_organization_daily_key"
            )
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self):
        return f"{self.day} {self.organization_id} {self.agent_id}: {self.requests}"


class OrganizationWeekly(OrganizationAgentSums):
    """`OrganizationDaily` summed per ISO week (`day` is its Monday): a long period reads its whole weeks here
    and only the days at its edges from the daily rows."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "day", Coalesce("organization_id", 0), Coalesce("agent_id", 0), name="usage_organization_weekly_key"
            )
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self):
        return f"week of {self.day} {self.organization_id} {self.agent_id}: {self.requests}"


class AgentDaily(DailySums):
    """All calls of one UTC day per agent, provider and model, every organization together: cost per day,
    error rates and latency percentiles."""

    agent = _kept_id("agents.Agent")
    provider = _kept_id("agents.LLMProvider")
    model = models.CharField(max_length=120, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "day", Coalesce("agent_id", 0), Coalesce("provider_id", 0), "model", name="usage_agent_daily_key"
            )
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self):
        return f"{self.day} {self.agent_id} {self.model}: {self.requests}"


def latency_columns() -> list[str]:
    return [f"lat_{bound}" for bound in LATENCY_BUCKETS_MS] + ["lat_over"]


class RollupWatermark(models.Model):
    """How far a roll-up has read its source table: the last event id it added (ids, not times, so an
    event that commits late is still read exactly once)."""

    name = models.CharField(max_length=40, unique=True)
    last_id = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.name} ≤ {self.last_id}"
