"""Demo accounts for `make run`; created through the same services as real sign-ups."""

from django.db import transaction

from accounts.models import User
from accounts.services import register_user

OPERATOR_EMAIL = "admin@example.com"
CUSTOMER_EMAIL = "demo@example.com"


def seed_demo_users(*, password: str) -> list[str]:
    """Create the operator superuser and the demo customer if missing; return the e-mails created."""
    created = []
    with transaction.atomic():
        if not User.objects.filter(email=OPERATOR_EMAIL).exists():
            User.objects.create_superuser(OPERATOR_EMAIL, password, name="Operator")
            created.append(OPERATOR_EMAIL)
        if not User.objects.filter(email=CUSTOMER_EMAIL).exists():
            user = register_user(email=CUSTOMER_EMAIL, password=password, name="Demo Customer")
            User.objects.filter(pk=user.pk).update(email_verified=True)
            created.append(CUSTOMER_EMAIL)
    return created
