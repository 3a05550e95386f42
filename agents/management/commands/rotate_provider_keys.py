"""Re-encrypt stored LLM provider keys under the current key (FIELD_ENCRYPTION_KEY or SECRET_KEY).

Rotation: set the new SECRET_KEY with the old one in SECRET_KEY_FALLBACKS, run this, then drop the
fallback. Keys that nothing decrypts are named, left unchanged, and make the command exit non-zero.
"""

from django.core.management.base import BaseCommand, CommandError

from agents.provider_keys import rotate_stored_keys


class Command(BaseCommand):
    help = "Re-encrypt stored LLM provider keys under the current encryption key."

    def handle(self, *args, **options):
        rotated, unreadable = rotate_stored_keys()
        self.stdout.write(f"Re-encrypted {rotated} provider key(s).")
        if unreadable:
            raise CommandError(f"No configured key decrypts the stored key of: {', '.join(unreadable)}. Re-enter it.")
