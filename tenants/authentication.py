"""`Authorization: Api-Key <key>`: authenticates as the organization through the key's creator."""

from rest_framework import authentication, exceptions

from tenants.selectors import api_key_from_secret, touch_api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, secret = header.partition(" ")
        if scheme != self.keyword:
            return None
        return authenticate_api_key(secret.strip())

    def authenticate_header(self, request):
        return self.keyword


def authenticate_api_key(secret: str):
    key = api_key_from_secret(secret)
    if key is None:
        raise exceptions.AuthenticationFailed("Invalid or revoked API key.", code="invalid_api_key")
    user = key.created_by
    if user is None or user.organization_id != key.organization_id:
        user = key.organization.members.filter(role="owner").order_by("pk").first()
    if user is None:
        raise exceptions.AuthenticationFailed("The key's organization has no owner.", code="invalid_api_key")
    touch_api_key(key)
    return user, key
