from django.db import models


class RuleKind(models.TextChoices):
    RATE_LIMIT = "rate_limit", "Rate limit (requests per minute)"
    ALLOW_AGENT = "allow_agent", "Allow agent"
    DENY_AGENT = "deny_agent", "Deny agent"
    EXTRA_QUOTA = "extra_quota", "Extra quota"
    FEATURE = "feature", "Feature flag"


class PolicyRule(models.Model):
    """An operator override of what a plan grants, for a plan or one organization, optionally time-boxed."""

    kind = models.CharField(max_length=16, choices=RuleKind.choices)
    plan = models.ForeignKey("billing.Plan", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    organization = models.ForeignKey(
        "tenants.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="policy_rules"
    )
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True)
    extra_requests = models.PositiveIntegerField(default=0)
    extra_tokens_input = models.PositiveBigIntegerField(default=0)
    extra_tokens_output = models.PositiveBigIntegerField(default=0)
    feature = models.CharField(max_length=80, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "kind"]), models.Index(fields=["plan", "kind"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(plan__isnull=False) | models.Q(organization__isnull=False),
                name="policy_rule_has_scope",
            ),
        ]

    def __str__(self):
        scope = self.organization or self.plan
        return f"{self.get_kind_display()} · {scope}"


class RulesVersion(models.Model):
    """One row: the token of the current PolicyRule / plan membership state (`policy.rules_cache`).

    In the database, not a cache, so every worker and every server sees a change the moment it commits,
    with or without Redis. Replaced (never incremented) in the transaction that changes the rules.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="policy_rules_version_single_row")]

    def __str__(self):
        return f"rules version {self.token}"
