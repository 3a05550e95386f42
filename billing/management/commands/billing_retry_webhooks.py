"""Re-process webhook events whose processing failed (the raw event is stored, so nothing is lost)."""

from django.core.management.base import BaseCommand

from billing.services.webhooks import retry_failed_webhooks


class Command(BaseCommand):
    help = "Retry webhook events left failed or unprocessed."

    def handle(self, *args, **options):
        events = retry_failed_webhooks()
        failed = sum(1 for event in events if event.outcome == "failed")
        self.stdout.write(f"retried {len(events)}, still failed {failed}")
