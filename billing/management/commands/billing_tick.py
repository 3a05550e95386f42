"""Close ended billing periods. Idempotent and safe to run every minute, even twice at once."""

import logging

from django.core.management.base import BaseCommand

from billing.services import run_billing_tick

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Renew, cancel, downgrade, mark past_due or expire the billing accounts whose period ended."

    def handle(self, *args, **options):
        result = run_billing_tick()
        logger.info("billing_tick processed %s accounts: %s", result.processed, result.actions)
        self.stdout.write(f"processed {result.processed}: {result.actions}")
