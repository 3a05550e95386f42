"""Issue 11 #12: staff with only *view* permission on billing see it but change nothing, and the
revenue report needs its own permission (`billing.view_revenue`)."""

import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import UserFactory
from billing.models import AccountStatus, WebhookEvent, WebhookOutcome
from billing.tests.account_factories import BillingAccountFactory

pytestmark = pytest.mark.django_db

ACCOUNTS = "/admin/billing/billingaccount/"
EVENTS = "/admin/billing/webhookevent/"


def staff_client(client, *codenames):
    user = UserFactory(is_staff=True, organization=None)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="billing", codename__in=codenames))
    client.force_login(user)
    return client


@pytest.fixture
def viewer(client):
    return staff_client(client, "view_billingaccount", "view_payment", "view_webhookevent", "view_plan")


@pytest.fixture
def failed_event(settings):
    settings.YOOKASSA_SHOP_ID, settings.YOOKASSA_SECRET_KEY = "1", "k"
    return WebhookEvent.objects.create(
        provider="yookassa",
        event_id="refund.succeeded:r1",
        event_type="refund.succeeded",
        payload={"event": "refund.succeeded", "object": {"id": "r1"}},
        outcome=WebhookOutcome.FAILED,
    )


def test_a_viewer_sees_accounts_but_is_offered_no_action(viewer, monthly):
    BillingAccountFactory(plan=monthly)

    page = viewer.get(ACCOUNTS)

    assert page.status_code == 200
    assert page.context["action_form"] is None


@pytest.mark.parametrize(
    ("action", "form"),
    [("grant_plan", {"periods": 1}), ("extend_trial", {"days": 30}), ("cancel_now", {"confirm": "on"})],
)
def test_a_viewer_posting_an_account_action_changes_nothing(viewer, monthly, yearly, action, form):
    account = BillingAccountFactory(plan=monthly, status=AccountStatus.TRIALING)
    before = (account.plan_id, account.status, account.current_period_end)
    if action == "grant_plan":
        form = {**form, "plan": yearly.pk}

    viewer.post(ACCOUNTS, {"action": action, "_selected_action": [account.pk], "apply": "1", **form})

    account.refresh_from_db()
    assert (account.plan_id, account.status, account.current_period_end) == before


def test_a_viewer_cannot_retry_a_webhook_event(viewer, failed_event):
    page = viewer.get(EVENTS)
    assert page.status_code == 200 and page.context["action_form"] is None

    viewer.post(EVENTS, {"action": "retry", "_selected_action": [failed_event.pk]})

    failed_event.refresh_from_db()
    assert (failed_event.outcome, failed_event.attempts) == (WebhookOutcome.FAILED, 0)


def test_staff_with_change_permission_can_retry_a_webhook_event(client, failed_event):
    operator = staff_client(client, "view_webhookevent", "change_webhookevent")

    operator.post(EVENTS, {"action": "retry", "_selected_action": [failed_event.pk]})

    failed_event.refresh_from_db()
    assert (failed_event.outcome, failed_event.attempts) == (WebhookOutcome.IGNORED, 1)


def test_the_revenue_page_is_forbidden_without_the_revenue_permission(viewer):
    assert viewer.get("/admin/billing/payment/revenue/").status_code == 403
    assert b"/admin/billing/payment/revenue/" not in viewer.get("/admin/billing/payment/").content


def test_the_revenue_page_opens_with_the_revenue_permission(client):
    accountant = staff_client(client, "view_payment", "view_revenue")

    assert accountant.get("/admin/billing/payment/revenue/").status_code == 200
    assert b"/admin/billing/payment/revenue/" in accountant.get("/admin/billing/payment/").content
