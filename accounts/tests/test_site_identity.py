"""E-mails name the site from SITE_NAME, and links built outside a request point at SITE_DOMAIN (issue 19)."""

import pytest
from django.contrib.sites.models import Site
from django.core.management import call_command
from django.test import Client

from accounts.services import register_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def configured_site(settings):
    settings.SITE_NAME = "Acme Bots"
    settings.SITE_DOMAIN = "bots.acme.test"
    call_command("migrate", verbosity=0)  # migrate writes the settings into the Site row
    yield
    Site.objects.clear_cache()  # the row rolls back with the test; its cached copy must go too


def test_migrate_writes_the_site_name_and_domain_from_settings(configured_site):
    site = Site.objects.get_current()
    assert (site.name, site.domain) == ("Acme Bots", "bots.acme.test")


def test_a_link_mailed_outside_a_request_names_the_site_and_its_domain(
    configured_site, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        register_user(email="ann@example.com", password="a-long-passphrase-1", send_verification=True)

    mail = mailoutbox[-1]
    assert mail.subject.startswith("[Acme Bots] ")
    assert "http://bots.acme.test/accounts/confirm-email/" in mail.body
    assert "example.com]" not in mail.subject


def test_the_web_sign_up_confirmation_is_not_from_example_com(settings, mailoutbox):
    Client().post(
        "/accounts/signup/",
        {"email": "bea@example.com", "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"},
    )

    assert mailoutbox[-1].subject.startswith(f"[{settings.SITE_NAME}] ")
