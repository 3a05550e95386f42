from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from agents.provider_keys import validate_key_env_name
from botgeneric.channels import Channel


class Agent(models.Model):
    """A sellable assistant of the platform catalog; its behaviour lives in prompt versions."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # The Russian dashboard shows these when filled in, the English ones otherwise.
    name_ru = models.CharField("name (Russian)", max_length=120, blank=True)
    description_ru = models.TextField("description (Russian)", blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ProviderKind(models.TextChoices):
    OPENAI = "openai", "OpenAI-compatible"
    DEMO = "demo", "Demo (offline)"


class LLMProvider(models.Model):
    """An upstream model endpoint. The key is stored encrypted (or named by env var) and never shown."""

    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=16, choices=ProviderKind.choices, default=ProviderKind.OPENAI)
    base_url = models.URLField(blank=True, help_text="Empty = the official OpenAI endpoint.")
    api_key_encrypted = models.TextField(blank=True, editable=False)
    api_key_env = models.CharField(
        max_length=80, blank=True, help_text="Name of an environment variable holding the key."
    )
    timeout = models.FloatField(
        default=30.0, help_text="Seconds to connect, and to wait for each next piece of data from the provider."
    )
    first_token_timeout = models.FloatField(
        default=30.0, help_text="Seconds to wait for the first words of an answer; then 504, nothing charged."
    )
    total_timeout = models.FloatField(default=300.0, help_text="Seconds an answer may take from start to end.")
    max_retries = models.PositiveSmallIntegerField(default=1)
    is_default = models.BooleanField(default=False)

    class Meta:
        verbose_name = "LLM provider"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_provider"
            ),
            models.CheckConstraint(condition=models.Q(timeout__gt=0), name="provider_timeout_positive"),
            models.CheckConstraint(
                condition=models.Q(first_token_timeout__gt=0, total_timeout__gte=models.F("first_token_timeout")),
                name="provider_stream_timeouts_valid",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        # Not a field validator: a rule that reads settings has no place in migrations.
        try:
            validate_key_env_name(self.api_key_env)
        except ValidationError as error:
            raise ValidationError({"api_key_env": error.messages}) from None


class ModelPrice(models.Model):
    model = models.CharField(max_length=120, unique=True)
    input_per_1m = models.DecimalField(max_digits=12, decimal_places=6, help_text="USD per 1M input tokens")
    output_per_1m = models.DecimalField(max_digits=12, decimal_places=6, help_text="USD per 1M output tokens")

    class Meta:
        ordering = ["model"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(input_per_1m__gte=0, output_per_1m__gte=0), name="model_price_non_negative"
            )
        ]

    def __str__(self):
        return self.model


class Conversation(models.Model):
    organization = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE, related_name="conversations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="conversations")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # A conversation of one of the organization's own clients (a deployment's contact), not of a member:
    # `user` is then the member the deployment acts as, and the member's own lists never show it.
    contact = models.ForeignKey(
        "deployments.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="conversations"
    )
    deployment = models.ForeignKey(
        "deployments.Deployment", on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["organization", "user", "-updated_at"])]

    def __str__(self):
        return self.title or f"Conversation {self.pk}"


class MessageRole(models.TextChoices):
    USER = "user", "User"
    ASSISTANT = "assistant", "Assistant"
    TOOL = "tool", "Tool result"


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=MessageRole.choices)
    content = models.TextField()
    interrupted = models.BooleanField(
        default=False, help_text="The answer stopped early (the client left, or the provider failed mid-answer)."
    )
    tokens_input = models.PositiveIntegerField(default=0)
    tokens_output = models.PositiveIntegerField(default=0)
    # A step of a tool loop: the model's calls (an assistant message, OpenAI's shape) or one call's result.
    tool_calls = models.JSONField(null=True, blank=True)
    tool_call_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["conversation", "-id"])]

    def __str__(self):
        return f"{self.role}: {self.content[:40]}"
