"""Demo data for `make run`: idempotent, safe to run on every start."""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.demo import seed_demo_users
from agents.demo import seed_catalog
from billing.catalog_seed import seed_plans


class Command(BaseCommand):
    help = "Create the demo operator, customer, plans and agents (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="Where the app is served.")

    def handle(self, *args, **options):
        # Plans and agents first: a new customer's trial looks up settings.TRIAL_PLAN.
        plans = seed_plans()
        agents = seed_catalog()
        password = settings.DEMO_PASSWORD or secrets.token_urlsafe(12)
        created = seed_demo_users(password=password)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        if plans:
            self.stdout.write(f"  Created plans: {', '.join(plans)}")
        if agents:
            self.stdout.write(f"  Created agents: {', '.join(agents)}")
        provider = "OpenAI (OPENAI_API_KEY)" if settings.OPENAI_API_KEY else "built-in demo (offline)"
        self.stdout.write(f"  LLM provider: {provider}")
        base = options["base_url"].rstrip("/")
        self.stdout.write(f"  Dashboard: {base}/dashboard/    Admin: {base}/admin/    API docs: {base}/api/v1/docs/")
        for email in created:
            self.stdout.write(f"  Created {email} with password: {password}")
        if not created:
            self.stdout.write("  Demo logins exist already: admin@example.com (operator), demo@example.com (customer).")
