"""Re-encrypt the secrets stored in the database under the current key (FIELD_ENCRYPTION_KEY or
SECRET_KEY): LLM provider keys and the bot tokens of customers' deployments.

Rotation: set the new SECRET_KEY with the old one in SECRET_KEY_FALLBACKS, run this, then drop the
fallback. Secrets that nothing decrypts are named, left unchanged, and make the command exit non-zero.
"""

from django.core.management.base import BaseCommand, CommandError

from agents.provider_keys import rotate_stored_keys
from deployments.services import rotate_bot_tokens


class Command(BaseCommand):
    help = "Re-encrypt stored LLM provider keys and deployment bot tokens under the current encryption key."

    def handle(self, *args, **options):
        rotated, unreadable = rotate_stored_keys()
        self.stdout.write(f"Re-encrypted {rotated} provider key(s).")
        tokens, unreadable_tokens = rotate_bot_tokens()
        self.stdout.write(f"Re-encrypted {tokens} deployment bot token(s).")
        problems = []
        if unreadable:
            problems.append(f"No configured key decrypts the stored key of: {', '.join(unreadable)}. Re-enter it.")
        if unreadable_tokens:
            problems.append(
                f"No configured key decrypts the bot token of: {', '.join(unreadable_tokens)}. Deploy the bot again."
            )
        if problems:
            raise CommandError(" ".join(problems))
