"""OpenAPI description of the versioned JWT authentication (loaded by accounts.apps.ready)."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class VersionedJWTScheme(SimpleJWTScheme):
    target_class = "accounts.tokens.VersionedJWTAuthentication"
