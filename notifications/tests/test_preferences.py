"""Issue 17 item 4: each kind can be switched off per user — on the dashboard's profile page and in the
profile API (defaults on; the operators' daily summary off, and for staff users only)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from notifications.selectors import preferences_for
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def test_the_profile_page_switches_kinds_off(owner):
    client = Client()
    client.force_login(owner)
    page = client.get("/profile/").content.decode()
    assert 'id="notification-preferences"' in page
    assert 'name="quota_warning" id="id_quota_warning" checked' in page
    assert 'name="daily_summary"' not in page  # operators only

    response = client.post("/profile/notifications/", {"quota_warning": "on", "payment_receipt": "on"})

    assert response.status_code == 302
    preferences = preferences_for(user=owner)
    assert preferences.quota_warning and preferences.payment_receipt
    assert not preferences.quota_reached and not preferences.trial_ending
    [row] = AuditEvent.objects.filter(action="notifications.preferences_changed")
    assert row.after == {
        "quota_reached": False,
        "renewal_failed": False,
        "trial_ending": False,
        "subscription_ended": False,
    }


def test_a_russian_profile_page_names_the_kinds_in_russian(admin):
    client = Client()
    client.force_login(admin)
    page = client.get("/profile/").content.decode()
    assert "Квота использована на 80 %" in page and "Квитанции об оплате" in page


def test_the_profile_api_shows_and_changes_the_preferences(owner):
    client = api_for(owner)
    assert client.get("/api/v1/auth/profile").json()["notifications"] == {
        "quota_warning": True,
        "quota_reached": True,
        "payment_receipt": True,
        "renewal_failed": True,
        "trial_ending": True,
        "subscription_ended": True,
        "daily_summary": False,
    }

    response = client.patch("/api/v1/auth/profile", {"notifications": {"trial_ending": False}}, format="json")

    assert response.status_code == 200
    assert response.json()["notifications"]["trial_ending"] is False
    assert response.json()["notifications"]["quota_warning"] is True
    assert preferences_for(user=owner).trial_ending is False


def test_bad_input_is_a_400_naming_the_field(owner):
    response = api_for(owner).patch("/api/v1/auth/profile", {"notifications": {"trial_ending": "maybe"}}, format="json")
    assert response.status_code == 400
    assert "trial_ending" in str(response.json())


def test_only_staff_users_can_ask_for_the_daily_summary(owner):
    api_for(owner).patch("/api/v1/auth/profile", {"notifications": {"daily_summary": True}}, format="json")
    assert preferences_for(user=owner).daily_summary is False

    owner.is_staff = True
    owner.save()
    api_for(owner).patch("/api/v1/auth/profile", {"notifications": {"daily_summary": True}}, format="json")
    assert preferences_for(user=owner).daily_summary is True
