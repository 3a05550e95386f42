"""`manage.py seed_plans`: the SPEC §4 plans, created if missing (never overwrites edits)."""

from django.core.management.base import BaseCommand

from billing.catalog_seed import seed_plans


class Command(BaseCommand):
    help = "Create the daily, weekly, monthly and yearly plans that do not exist yet (idempotent)."

    def handle(self, *args, **options):
        created = seed_plans()
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created plans: {', '.join(created)}"))
        else:
            self.stdout.write("All seed plans exist already; nothing changed.")
