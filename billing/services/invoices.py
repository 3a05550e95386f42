"""Invoices: one numbered invoice per succeeded payment, numbered without gaps per issuer and year."""

from django.conf import settings
from django.db import connection
from django.utils import timezone

from billing.models import Invoice, InvoiceSequence, Payment
from billing.signals import payment_succeeded

_SEQUENCE_TABLE = InvoiceSequence._meta.db_table


def issue_invoice(payment: Payment) -> Invoice | None:
    """The invoice of `payment` (succeeded, not free), numbered INV-<year>-<000123>; the payment's own
    when it has one. Call inside the transaction that marks the payment succeeded: the number is taken
    by one UPDATE of the issuer's sequence row, whose lock serializes concurrent payments until commit,
    and a rollback gives the number back. Sends `payment_succeeded` once issued."""
    if payment.amount <= 0:
        return None
    existing = Invoice.objects.filter(payment=payment).first()
    if existing is not None:
        return existing
    now = timezone.now()
    issuer = settings.INVOICE_ISSUER
    InvoiceSequence.objects.get_or_create(issuer=issuer, year=now.year)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_SEQUENCE_TABLE} SET last_number = last_number + 1 "  # noqa: S608
            "WHERE issuer = %s AND year = %s RETURNING last_number",
            [issuer, now.year],
        )
        (sequence,) = cursor.fetchone()
    account = payment.account
    plan = payment.plan
    invoice = Invoice.objects.create(
        account=account,
        payment=payment,
        issuer=issuer,
        year=now.year,
        sequence=sequence,
        number=f"{issuer}-{now.year}-{sequence:06d}",
        issued_at=now,
        customer_name=account.organization.name,
        plan_name=plan.name if plan else "",
        plan_name_ru=plan.name_ru if plan else "",
        amount=payment.amount,
        currency=payment.currency,
        period_start=payment.period_start,
        period_end=payment.period_end,
    )
    payment_succeeded.send(sender=Invoice, payment=payment, invoice=invoice)
    return invoice
