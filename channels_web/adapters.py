"""allauth adapters: every web sign-up, with a password or through a provider, goes through register_user.

That way a web customer gets an organization and a trial exactly like an API or Telegram one.
"""

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import user_email
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import get_language

from accounts.models import AuthProvider, User
from accounts.services import AccountError, register_user
from accounts.social import identity_name

logger = logging.getLogger(__name__)

PROVIDER_AUTH = {
    "google": AuthProvider.GOOGLE,
    "apple": AuthProvider.APPLE,
    "telegram": AuthProvider.TELEGRAM,
}


def _request_locale() -> str:
    """The language the visitor is reading the sign-up page in becomes the account's locale."""
    language = (get_language() or "").split("-")[0]
    return language if language in settings.SUPPORTED_LOCALES else settings.LANGUAGE_CODE


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        """Create the account with register_user instead of a bare user row."""
        data = form.cleaned_data
        try:
            return register_user(email=data.get("email"), password=data.get("password1"), locale=_request_locale())
        except AccountError as exc:
            # Only a concurrent sign-up with the same e-mail gets here; allauth's form checked the rest.
            messages.error(request, exc.detail)
            raise ImmediateHttpResponse(redirect("account_signup")) from exc

    def confirm_email(self, request, email_address):
        """Mirror allauth's verification onto the user, where the rest of the product looks for it."""
        confirmed = super().confirm_email(request, email_address)
        if confirmed and email_address.primary:
            User.objects.filter(pk=email_address.user_id).update(email_verified=True)
        return confirmed


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request, sociallogin):
        """A Telegram identity already linked through the bot signs in to that same account."""
        if sociallogin.is_existing or sociallogin.account.provider != "telegram":
            return
        existing = User.objects.filter(telegram_id=int(sociallogin.account.uid)).first()
        if existing is not None:
            sociallogin.connect(request, existing)

    def save_user(self, request, sociallogin, form=None):
        """Register the provider's identity as a new customer with its own organization."""
        provider = sociallogin.account.provider
        extra = sociallogin.account.extra_data or {}
        email = user_email(sociallogin.user) or (form.cleaned_data.get("email") if form is not None else None)
        verified = bool(email) and any(
            address.verified and address.email.lower() == email.lower() for address in sociallogin.email_addresses
        )
        name = identity_name(extra)
        try:
            user = register_user(
                email=email,
                password=None,
                locale=_request_locale(),
                name=name,
                auth_provider=PROVIDER_AUTH.get(provider, AuthProvider.EMAIL),
                telegram_id=int(sociallogin.account.uid) if provider == "telegram" else None,
                email_verified=verified,
            )
        except AccountError as exc:
            logger.info("social sign-up refused", extra={"provider": provider, "code": exc.code})
            messages.error(request, exc.detail)
            raise ImmediateHttpResponse(redirect("account_login")) from exc
        sociallogin.user = user
        sociallogin.save(request)
        return user
