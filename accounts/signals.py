"""Signals other apps (outgoing webhooks, notifications) may listen to. Sent after commit only."""

from django.dispatch import Signal

# A person joined an organization through an invitation (a new sign-up, or an existing user who moved).
# Sent by `accounts.membership` once the join has committed, with sender=Organization and the keyword
# arguments `organization`, `user`, `role` and `invitation`.
member_joined = Signal()
