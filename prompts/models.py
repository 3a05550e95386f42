from django.conf import settings
from django.db import models

from agents.tools import validate_tool_names
from prompts.errors import PromptError, PromptErrorCode

# What a version *is*; once published (active or archived) none of these may change.
CONTENT_FIELDS = (
    "system_prompt",
    "template",
    "model",
    "provider",
    "temperature",
    "max_tokens",
    "context_tokens",
    "locked_parameters",
    "tools",
    "note",
)


class LockableParameter(models.TextChoices):
    """Request parameters an operator can fix for a version: a client that sends one gets a 400."""

    TEMPERATURE = "temperature", "temperature (the version's own is used)"
    TOP_P = "top_p", "top_p"
    MAX_TOKENS = "max_tokens", "max_tokens / max_completion_tokens (the version's own is used)"
    STOP = "stop", "stop"
    SEED = "seed", "seed"
    PRESENCE_PENALTY = "presence_penalty", "presence_penalty"
    FREQUENCY_PENALTY = "frequency_penalty", "frequency_penalty"
    RESPONSE_FORMAT = "response_format", "response_format"
    TOOLS = "tools", "tools / tool_choice / parallel_tool_calls"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class PromptVersion(models.Model):
    """One numbered version of an agent's prompt and model settings; immutable once published."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="prompt_versions")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False)
    system_prompt = models.TextField()
    template = models.TextField(default="{input}", help_text="User message; must contain {input}.")
    model = models.CharField(max_length=120, default="gpt-4o-mini")
    provider = models.ForeignKey(
        "agents.LLMProvider", on_delete=models.PROTECT, null=True, blank=True, help_text="Empty = default provider."
    )
    temperature = models.DecimalField(max_digits=3, decimal_places=2, default=0.7)
    max_tokens = models.PositiveIntegerField(default=1024, help_text="The longest answer; a client may ask for less.")
    context_tokens = models.PositiveIntegerField(
        default=16000,
        help_text="The most prompt tokens sent to the model (system prompt, earlier messages, input): "
        "the oldest earlier messages are dropped to fit.",
    )
    locked_parameters = models.JSONField(
        default=list,
        blank=True,
        help_text="Request parameters clients may not set on the OpenAI-compatible API (sending one is a 400).",
    )
    tools = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_tool_names],
        help_text='Built-in tools the model may call, run on our side, e.g. ["register_lead"].',
    )
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["agent_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "version"], name="prompt_version_unique_per_agent"),
            models.UniqueConstraint(
                fields=["agent"], condition=models.Q(status="active"), name="one_active_prompt_per_agent"
            ),
            models.CheckConstraint(
                condition=models.Q(temperature__gte=0, temperature__lte=2), name="prompt_temperature_range"
            ),
            models.CheckConstraint(condition=models.Q(max_tokens__gt=0), name="prompt_max_tokens_positive"),
            models.CheckConstraint(condition=models.Q(context_tokens__gt=0), name="prompt_context_tokens_positive"),
        ]

    def __str__(self):
        return f"{self.agent} v{self.version} ({self.status})"

    def save(self, *args, **kwargs):
        """Refuse to change the content of a published version, whoever calls save()."""
        if not self._state.adding and self.pk is not None:
            fields = [self._meta.get_field(name) for name in CONTENT_FIELDS]
            stored = PromptVersion.objects.filter(pk=self.pk).values("status", *(f.attname for f in fields)).first()
            if stored is not None and stored["status"] != Status.DRAFT:
                changed = [
                    field.name
                    for field in fields
                    if field.to_python(stored[field.attname]) != field.to_python(getattr(self, field.attname))
                ]
                if changed:
                    raise PromptError(
                        PromptErrorCode.VERSION_IMMUTABLE,
                        f"Version {self.version} is {stored['status']} and cannot be changed "
                        f"({', '.join(changed)}); duplicate it as a new draft instead.",
                        409,
                    )
        super().save(*args, **kwargs)

    @property
    def is_editable(self) -> bool:
        return self.status == Status.DRAFT
