"""Error codes of sign-up, sign-in, tokens and profiles."""

from botgeneric.errors import ErrorCode


class AccountErrorCode(ErrorCode):
    INVALID_CREDENTIALS = "invalid_credentials", "E-mail or password is wrong."
    TOO_MANY_LOGIN_ATTEMPTS = "too_many_login_attempts", "Too many sign-in attempts; try again later."
    EMAIL_TAKEN = "email_taken", "This e-mail belongs to another account."
    INVALID_EMAIL = "invalid_email", "Enter a valid e-mail address."
    WEAK_PASSWORD = "weak_password", "The password is too weak."
    UNSUPPORTED_LOCALE = "unsupported_locale", "This language is not supported."
    OWNER_MUST_TRANSFER = (
        "owner_must_transfer",
        "The organization's owner must transfer ownership or delete the organization first.",
    )
    # JWTs (simplejwt's codes, which our token views and authentication raise too).
    TOKEN_NOT_VALID = "token_not_valid", "Token is invalid or expired"
    BAD_AUTHORIZATION_HEADER = "bad_authorization_header", "Authorization header is malformed"
    USER_NOT_FOUND = "user_not_found", "User not found"
    PASSWORD_CHANGED = "password_changed", "The user's password has been changed."
    # Google / Apple ID tokens and the Telegram Login Widget.
    PROVIDER_UNAVAILABLE = "provider_unavailable", "The sign-in provider's keys could not be fetched."
    INVALID_TOKEN = "invalid_token", "The ID token is invalid."
    TOKEN_EXPIRED = "token_expired", "The ID token has expired."
    INVALID_AUDIENCE = "invalid_audience", "The ID token was issued to another app."
    TELEGRAM_LOGIN_UNAVAILABLE = "telegram_login_unavailable", "Telegram login is not enabled here."
    TELEGRAM_AUTH_INVALID = "telegram_auth_invalid", "The Telegram login could not be verified."
