"""allauth adapters: every web sign-up, with a password or through a provider, goes through register_user.

That way a web customer gets an organization and a trial exactly like an API or Telegram one. The
adapters also tie allauth's flows to the account rules: passwords change through
`accounts.services.change_password` (which revokes JWTs), a verified link marks the user verified,
failed sign-ins lock the resolved account, and a social login reaches an existing account only
through an address that account has verified.
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
from django.utils.translation import gettext as _

from accounts.email_addresses import normalize_email
from accounts.models import AuthProvider, User
from accounts.selectors import had_trial_elsewhere, login_attempts_key
from accounts.services import change_password, mark_email_verified, register_user, revoke_tokens
from accounts.social import account_for_email, identity_name
from botgeneric.client_address import client_ip
from botgeneric.errors import DomainError
from channels_web.messages import describe_error
from tenants.selectors import invitation_for_token

logger = logging.getLogger(__name__)

# Where a visitor's invitation waits while they sign up (set by the invitation page, channels_web.views.members).
INVITATION_SESSION_KEY = "invitation_token"

PROVIDER_AUTH = {
    "google": AuthProvider.GOOGLE,
    "apple": AuthProvider.APPLE,
    "telegram": AuthProvider.TELEGRAM,
}


def _request_locale() -> str:
    """The language the visitor is reading the sign-up page in becomes the account's locale."""
    language = (get_language() or "").split("-")[0]
    return language if language in settings.SUPPORTED_LOCALES else settings.LANGUAGE_CODE


def _say_if_no_trial(request, user: User) -> None:
    if had_trial_elsewhere(user=user):
        messages.warning(
            request,
            _(
                "This e-mail address (or Telegram account) has already had its free trial, so your new "
                "organization starts without one. Choose a plan on the Billing page to use the agents."
            ),
        )


def _invitation_for(request, email: str | None) -> str | None:
    """The token of the invitation the visitor opened, when it was sent to `email` (a provider's address):
    only then does the sign-up join through it; another address signs up on its own."""
    token = request.session.get(INVITATION_SESSION_KEY)
    invitation = invitation_for_token(token) if token else None
    if invitation is None or invitation.email != normalize_email(email):
        return None
    return token


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        """Create the account with register_user instead of a bare user row; a visitor who came through an
        invitation link (`channels_web.views.members`) joins that organization instead of getting one."""
        data = form.cleaned_data
        token = request.session.get(INVITATION_SESSION_KEY)
        try:
            user = register_user(
                email=data.get("email"),
                password=data.get("password1"),
                locale=_request_locale(),
                invitation_token=token,
            )
        except DomainError as exc:
            # A concurrent sign-up with the same e-mail, or an invitation that cannot be used (another
            # address, expired, withdrawn); allauth's form checked the rest.
            messages.error(request, describe_error(exc).text)
            raise ImmediateHttpResponse(redirect("account_signup")) from exc
        if token is None:
            _say_if_no_trial(request, user)
        else:
            # The invitation's link was mailed to this address: allauth records it as verified.
            self.stash_verified_email(request, user.email)
            request.session.pop(INVITATION_SESSION_KEY, None)
        return user

    def clean_email(self, email: str) -> str:
        return normalize_email(email) or ""

    def confirm_email(self, request, email_address):
        """Mirror allauth's verification onto the user, where the rest of the product looks for it."""
        confirmed = super().confirm_email(request, email_address)
        if confirmed and email_address.primary:
            mark_email_verified(user=email_address.user, email=email_address.email, actor=email_address.user)
        return confirmed

    def set_password(self, user, password) -> None:
        """Password change, set and reset: one service, which also revokes the user's JWTs."""
        change_password(user=user, password=password)

    def get_client_ip(self, request) -> str:
        return client_ip(request) or super().get_client_ip(request)

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # allauth's per-key `login_failed` limit (5 per 5 minutes) counts per resolved account, so no
        # spelling of an address gets a bucket of its own; the API login shares these counters.
        return login_attempts_key(credentials.get("email", credentials.get("username", "")))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request, sociallogin):
        """A Telegram identity already linked through the bot signs in to that same account."""
        if sociallogin.is_existing or sociallogin.account.provider != "telegram":
            return
        existing = User.objects.filter(telegram_id=int(sociallogin.account.uid)).first()
        if existing is not None:
            sociallogin.connect(request, existing)

    def authenticate_by_email(self, sociallogin):
        """Sign in to an existing account by e-mail only when that account has verified the address.

        An address registered through the API or attached in the bot is unverified until its owner
        clicks the link; it may belong to someone who registered a victim's address in advance.
        """
        match = super().authenticate_by_email(sociallogin)
        if match is None:
            return None
        user, email = match
        if account_for_email(email=email, provider_verified=True) != user:
            logger.info("social login by e-mail refused: local address unverified", extra={"user_id": user.pk})
            return None
        return match

    def save_user(self, request, sociallogin, form=None):
        """Register the provider's identity as a new customer with its own organization, or, when the visitor
        came through an invitation link for this very address, as a member of the inviting organization."""
        provider = sociallogin.account.provider
        extra = sociallogin.account.extra_data or {}
        email = user_email(sociallogin.user) or (form.cleaned_data.get("email") if form is not None else None)
        verified = bool(email) and any(
            address.verified and normalize_email(address.email) == normalize_email(email)
            for address in sociallogin.email_addresses
        )
        name = identity_name(extra)
        token = _invitation_for(request, email)
        try:
            user = register_user(
                email=email,
                password=None,
                locale=_request_locale(),
                name=name,
                auth_provider=PROVIDER_AUTH.get(provider, AuthProvider.EMAIL),
                telegram_id=int(sociallogin.account.uid) if provider == "telegram" else None,
                email_verified=verified,
                invitation_token=token,
            )
        except DomainError as exc:
            logger.info("social sign-up refused", extra={"provider": provider, "code": exc.code})
            messages.error(request, describe_error(exc).text)
            raise ImmediateHttpResponse(redirect("account_login")) from exc
        sociallogin.user = user
        sociallogin.save(request)
        if token is None:
            _say_if_no_trial(request, user)
        request.session.pop(INVITATION_SESSION_KEY, None)
        return user


def revoke_tokens_on_connect(sender, request, sociallogin, **kwargs) -> None:
    """A new way into an account (allauth's `social_account_added`) ends every JWT issued before it."""
    revoke_tokens(user=sociallogin.user, reason="social_account_connected")
