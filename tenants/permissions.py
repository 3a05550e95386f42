"""What a request made with an API key may do: its key's scopes (SPEC §7, issue #8 item 6).

Requests signed in as a person (JWT, session) pass these checks untouched; the person's role is
checked elsewhere. A key lacking the scope gets 403 `insufficient_scope`.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from botgeneric.errors import DomainError
from tenants.errors import TenantErrorCode
from tenants.models import ApiKey, ApiKeyScope


class InsufficientScope(DomainError):
    code = TenantErrorCode.INSUFFICIENT_SCOPE
    http_status = 403


def _key(request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


class ApiKeyScopes(BasePermission):
    """Reading needs `read`; anything else needs `write_scope` (`invoke` unless a subclass says otherwise)."""

    write_scope: str = ApiKeyScope.INVOKE

    def has_permission(self, request, view):
        key = _key(request)
        if key is None:
            return True
        scope = ApiKeyScope.READ if request.method in SAFE_METHODS else self.write_scope
        if scope not in key.scopes:
            raise InsufficientScope(detail=f"This API key does not have the {scope!r} scope.", extra={"scope": scope})
        return True


class BillingScope(ApiKeyScopes):
    """Billing reads need `read`; subscribing, canceling, resuming and paying need `billing`."""

    write_scope = ApiKeyScope.BILLING


class NoApiKeyChanges(ApiKeyScopes):
    """Profile and membership changes are a person's: no key scope grants them."""

    def has_permission(self, request, view):
        key = _key(request)
        if key is not None and request.method not in SAFE_METHODS:
            raise InsufficientScope(
                detail="Profile and membership changes need a signed-in user; an API key cannot make them.",
                extra={"scope": None},
            )
        return super().has_permission(request, view)
