from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a member may do in their organization (owners and admins manage keys, members and billing)."""

    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")


class Organization(models.Model):
    """The tenant: every customer-owned row points to one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deletion_due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set while the owner's deletion is pending: members are refused, and its data is erased then.",
    )
    erased_at = models.DateTimeField(null=True, blank=True, help_text="When its personal data was erased.")

    def __str__(self):
        return self.name

    @property
    def pending_deletion(self) -> bool:
        return self.deletion_due_at is not None and self.erased_at is None


class AuditEvent(models.Model):
    """Who changed what, when, from which state to which. Written by services only."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True, help_text="system, billing_tick, webhook:<id>…")
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self):
        return f"{self.action} {self.target_type}:{self.target_id}"


class ApiKeyScope(models.TextChoices):
    INVOKE = "invoke", "Call agents"
    READ = "read", "Read agents, conversations, usage and billing state"
    BILLING = "billing", "Change the subscription and pay (owners grant it)"


DEFAULT_API_KEY_SCOPES = (ApiKeyScope.INVOKE.value, ApiKeyScope.READ.value)


def default_api_key_scopes() -> list[str]:
    return list(DEFAULT_API_KEY_SCOPES)


class ApiKey(models.Model):
    """An organization-scoped secret; only its prefix and a hash are stored.

    It acts as its creator while the creator is an active member, and only within its scopes.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=128)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=default_api_key_scopes, help_text="Subset of invoke, read, billing.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiKeysVersion(models.Model):
    """One row: the token of the current state of API keys and the people they act as
    (`tenants.api_key_cache`). In the database, so every worker and server sees a change once it commits;
    replaced in the transaction that revokes a key or changes a key's creator."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="tenants_api_keys_version_single_row")]

    def __str__(self):
        return f"API keys version {self.token}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


# Roles an invitation may carry: ownership is handed over (transfer), never invited.
INVITABLE_ROLES = (Role.ADMIN, Role.MEMBER)
INVITABLE_ROLE_CHOICES = [(role.value, role.label) for role in INVITABLE_ROLES]


class Invitation(models.Model):
    """An offer, mailed as a link, to join an organization with a role. Single use and expiring.

    Only a SHA-256 of the link's random token is stored: a leaked database does not leak usable links.
    An open invitation (neither accepted nor revoked) holds a seat until it expires (`policy.selectors`).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=[role.value for role in INVITABLE_ROLES]), name="invitation_role_invitable"
            ),
        ]

    def __str__(self):
        return f"{self.email} → {self.organization}"

    def status_at(self, now) -> str:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if self.expires_at <= now:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING
