from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.email_addresses import normalize_email
from tenants.models import Role


class Locale(models.TextChoices):
    EN = "en", "English"
    RU = "ru", "Русский"


class AuthProvider(models.TextChoices):
    EMAIL = "email", "E-mail"
    GOOGLE = "google", "Google"
    APPLE = "apple", "Apple"
    TELEGRAM = "telegram", "Telegram"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email=normalize_email(username))

    def create_user(self, email=None, password=None, **fields):
        email = normalize_email(email)
        user = self.model(email=email, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("email_verified", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Customers belong to one organization; operators (staff) may have none."""

    email = models.EmailField(_("email"), unique=True, null=True, blank=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    locale = models.CharField(_("language"), max_length=8, choices=Locale.choices, default=Locale.EN)
    telegram_id = models.BigIntegerField(unique=True, null=True, blank=True)
    organization = models.ForeignKey(
        "tenants.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    email_verified = models.BooleanField(default=False)
    auth_provider = models.CharField(max_length=16, choices=AuthProvider.choices, default=AuthProvider.EMAIL)
    date_joined = models.DateTimeField(default=timezone.now)
    token_version = models.PositiveIntegerField(
        default=0, help_text="Carried in every JWT; raising it revokes all of the user's tokens at once."
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(condition=models.Q(role__in=[r.value for r in Role]), name="user_role_valid"),
        ]

    def __str__(self):
        return self.email or self.name or f"telegram:{self.telegram_id}"

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def can_manage_organization(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    @property
    def has_verified_identity(self) -> bool:
        """The person behind the account is known: a verified e-mail, or an account made through Telegram."""
        return self.email_verified or self.auth_provider == AuthProvider.TELEGRAM


class TrialClaim(models.Model):
    """An identity (a normalized e-mail or a Telegram id) that has had its one free trial.

    Kept when the organization goes, so deleting an account and signing up again gives no new trial.
    """

    identity = models.CharField(max_length=320, unique=True)
    organization = models.ForeignKey(
        "tenants.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.identity
