"""`manage.py verify_email ADDRESS`: support marks an address verified (the owner proved it another way)."""

from django.core.management.base import BaseCommand, CommandError

from accounts.services import AccountError, verify_email_address


class Command(BaseCommand):
    help = "Mark the account with this e-mail address as verified, lifting the unverified trial limit."

    def add_arguments(self, parser):
        parser.add_argument("address")

    def handle(self, *args, address: str, **options):
        try:
            user = verify_email_address(email=address, actor_label="support:verify_email")
        except AccountError as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(self.style.SUCCESS(f"{user.email} is verified."))
