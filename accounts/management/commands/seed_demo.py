"""Demo data for `make run`: idempotent, safe to run on every start."""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.demo import seed_demo_users


class Command(BaseCommand):
    help = "Create the demo operator, customer, plans and agents (idempotent)."

    def handle(self, *args, **options):
        password = settings.DEMO_PASSWORD or secrets.token_urlsafe(12)
        created = seed_demo_users(password=password)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        base = "http://127.0.0.1:8000"
        self.stdout.write(f"  Dashboard: {base}/dashboard/    Admin: {base}/admin/    API docs: {base}/api/v1/docs/")
        for email in created:
            self.stdout.write(f"  Created {email} with password: {password}")
        if not created:
            self.stdout.write("  Demo logins exist already: admin@example.com (operator), demo@example.com (customer).")
