"""What billing tells the rest of the platform (notices, outgoing webhooks).

Each signal is sent inside the transaction of the change it reports: a receiver records what it needs
in that same transaction (so it exists exactly when the change does) and defers anything that talks to
the network with `transaction.on_commit` (background.queue.enqueue_on_commit).
"""

from django.dispatch import Signal

#: The subscription changed. Arguments: account (BillingAccount, fresh), action (the audit action:
#: "subscription.activated", "…renewed", "…past_due", "…canceled", "…expired", …), before and after
#: (billing.services.snapshot of the account).
subscription_changed = Signal()

#: A payment succeeded and its invoice was issued. Arguments: payment (Payment), invoice (Invoice).
payment_succeeded = Signal()
