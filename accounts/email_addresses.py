"""What counts as the same e-mail address: for logins, and for the one-trial-per-person rule."""

import unicodedata

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def normalize_email(email: str | None) -> str | None:
    """The stored and looked-up form of an address: NFKC, then lower-case; None for blank.

    Lookups compare this form exactly. A case-insensitive database match (`email__iexact`, UPPER)
    would fold characters such as `ı` to `I`, so two different strings would reach one account
    through different throttle buckets.
    """
    email = unicodedata.normalize("NFKC", (email or "").strip()).lower()
    return email or None


def trial_identity_for_email(email: str) -> str:
    """One person's mailbox however they spell it: no `+tag`, and Gmail ignores dots in the local part."""
    local, _, domain = (normalize_email(email) or "").rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"email:{local}@{domain}"


def trial_identity_for_telegram(telegram_id: int) -> str:
    return f"telegram:{telegram_id}"
