"""Duplicate register_lead calls for one client at the same moment make one lead: the client's row is
locked, not read-then-written."""

import threading

import pytest
from django.db import connections

from deployments.tests.factories import ContactFactory, DeploymentFactory
from leads.models import Lead
from leads.services import register_lead

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_duplicates_make_one_lead(tenant):
    deployment = DeploymentFactory(organization=tenant.owner.organization, agent=tenant.sales)
    contact = ContactFactory(deployment=deployment)
    start = threading.Barrier(6)
    errors = []

    def call(n):
        try:
            start.wait()
            register_lead(
                organization_id=contact.organization_id,
                contact_id=contact.pk,
                conversation_id=None,
                deployment_id=deployment.pk,
                details={"need": f"website {n}", "phone": "+351 1"},
            )
        except Exception as error:  # noqa: BLE001 — surfaced by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert Lead.objects.filter(contact=contact).count() == 1


def test_another_clients_lead_is_its_own(tenant):
    deployment = DeploymentFactory(organization=tenant.owner.organization, agent=tenant.sales)
    first, second = ContactFactory(deployment=deployment), ContactFactory(deployment=deployment)

    for contact in (first, second):
        register_lead(
            organization_id=contact.organization_id,
            contact_id=contact.pk,
            conversation_id=None,
            deployment_id=deployment.pk,
            details={"need": "a website"},
        )

    assert Lead.objects.count() == 2
