"""What happens when the organization changes its endpoints while a delivery is on the wire (committed
transactions: the receiver's thread acts through its own database connection)."""

from datetime import timedelta

import pytest
from django.db import connection

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import emit, send_delivery

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_endpoint_deleted_while_its_delivery_is_sent_leaves_nothing_behind(org, endpoint_for, receiver):
    endpoint_id, _ = endpoint_for()
    receiver.default_status = 500
    emit(organization=org.organization, event_type="payment.succeeded", payload={})
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.next_attempt_at - timedelta(hours=1))

    def delete_endpoint():
        WebhookEndpoint.objects.filter(pk=endpoint_id).delete()
        connection.close()

    receiver.before_answer = delete_endpoint

    assert send_delivery(delivery_pk=delivery.pk) is None

    assert len(receiver.received) == 2
    assert not WebhookDelivery.objects.exists() and not WebhookAttempt.objects.exists()


def test_a_delivery_already_being_sent_is_not_sent_twice(org, endpoint_for, receiver):
    endpoint_for()
    receiver.default_status = 500
    emit(organization=org.organization, event_type="payment.succeeded", payload={})
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.next_attempt_at - timedelta(hours=1))
    second_tries = []

    def try_again_meanwhile():
        receiver.before_answer = None
        second_tries.append(send_delivery(delivery_pk=delivery.pk))
        connection.close()

    receiver.before_answer = try_again_meanwhile

    send_delivery(delivery_pk=delivery.pk)

    assert second_tries == [None]
    assert len(receiver.received) == 2
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2
