"""Signing in with a Google or Apple identity: through allauth on the web, or by exchanging the
provider's ID token on the API (`accounts.id_tokens` verifies it).

Both follow one rule for reaching an existing account by e-mail (`account_for_email`): the provider
vouches for the address *and* the account's owner proved it to us. An address registered through the
API or attached in the bot is unverified, and may have been registered by someone waiting for the
real owner to sign in with Google (pre-account takeover), so it never connects.
"""

import logging
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.db import IntegrityError, transaction

from accounts.errors import AccountErrorCode
from accounts.models import AuthProvider, User
from accounts.services import AccountError, normalize_email, register_user, revoke_tokens
from tenants.services import record_audit

logger = logging.getLogger(__name__)

PROVIDER_AUTH = {"google": AuthProvider.GOOGLE, "apple": AuthProvider.APPLE}


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says signed in: its stable user id (`sub`) and the e-mail it vouches for."""

    provider: str
    uid: str
    email: str | None
    email_verified: bool
    name: str = ""
    claims: dict = field(default_factory=dict)


def identity_name(profile: dict) -> str:
    """A display name from a provider's profile: Google's `name` (or given and family names), or the
    `{"firstName", "lastName"}` Apple sends once, outside the token."""
    name = profile.get("name")
    if isinstance(name, dict):
        parts = [name.get("firstName"), name.get("lastName")]
    elif isinstance(name, str) and name.strip():
        parts = [name]
    else:
        parts = [
            profile.get("given_name") or profile.get("first_name"),
            profile.get("family_name") or profile.get("last_name"),
        ]
    return " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())[:150]


def account_for_email(*, email: str | None, provider_verified: bool) -> User | None:
    """The existing account a provider identity may sign in to through its e-mail address, or None."""
    if not (email and provider_verified):
        return None
    user = User.objects.filter(email=normalize_email(email)).first()
    if user is None or not user.email_verified:
        return None
    return user


def is_new_identity(identity: ProviderIdentity) -> bool:
    """No account is connected to the identity and none has its address: signing in would sign up."""
    if _connected_account(identity) is not None:
        return False
    return not (identity.email and User.objects.filter(email=normalize_email(identity.email)).exists())


def sign_in_with_identity(*, identity: ProviderIdentity, locale: str) -> User:
    """The account a verified provider identity opens: the one it is connected to, an existing account
    with the same verified address (connected now), or a new customer through `register_user`.

    An address that belongs to an account which has not verified it is refused (`email_taken`, 409):
    its owner signs in with the password, confirms the address, and connects the provider from there.
    """
    connected = _connected_account(identity)
    if connected is not None:
        return connected.user
    user = account_for_email(email=identity.email, provider_verified=identity.email_verified)
    if user is not None:
        return _connect(user=user, identity=identity)
    if identity.email and User.objects.filter(email=normalize_email(identity.email)).exists():
        connected = _connected_account(identity)  # a concurrent first sign-in of this identity made it
        if connected is not None:
            return connected.user
        logger.info("%s sign-in refused: its address belongs to another account", identity.provider)
        raise AccountError(
            AccountErrorCode.EMAIL_TAKEN,
            f"An account with this e-mail already exists. Sign in to it with its password and confirm the "
            f"address, then connect {identity.provider.title()} from there.",
            http_status=409,
        )
    return _register(identity=identity, locale=locale)


def _connected_account(identity: ProviderIdentity) -> SocialAccount | None:
    return SocialAccount.objects.select_related("user").filter(provider=identity.provider, uid=identity.uid).first()


def _link(*, user: User, identity: ProviderIdentity) -> None:
    SocialAccount.objects.create(user=user, provider=identity.provider, uid=identity.uid, extra_data=identity.claims)
    record_audit(
        action="user.social_connected",
        target=user,
        organization=user.organization,
        actor=user,
        after={"provider": identity.provider},
    )


def _connect(*, user: User, identity: ProviderIdentity) -> User:
    """Connect the identity to an existing account; a new way in ends every JWT issued before it."""
    try:
        with transaction.atomic():
            _link(user=user, identity=identity)
            revoke_tokens(user=user, reason="social_account_connected")
    except IntegrityError:
        # A concurrent exchange of the same token connected it first.
        return _connected_account(identity).user
    return user


def _register(*, identity: ProviderIdentity, locale: str) -> User:
    try:
        with transaction.atomic():
            user = register_user(
                email=identity.email,
                password=None,
                locale=locale,
                name=identity.name,
                auth_provider=PROVIDER_AUTH[identity.provider],
                email_verified=identity.email_verified,
                # An address the provider did not vouch for gets our confirmation link, as an API sign-up does.
                send_verification=not identity.email_verified,
            )
            if user.email and identity.email_verified:
                EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
            _link(user=user, identity=identity)
    except (IntegrityError, AccountError):
        # Two first exchanges of one identity raced: the loser's rows rolled back, it takes the winner's.
        winner = _connected_account(identity)
        if winner is None:
            raise
        return winner.user
    return user
