"""Issue 19: the operator console is branded and leaves out models operators never touch."""

import pytest

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_admin_index_is_branded_and_hides_internal_models(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get("/admin/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "bot-generic operations" in html
    assert "Django administration" not in html
    for hidden in ["/admin/sites/site/", "/admin/auth/group/", "/admin/token_blacklist/"]:
        assert hidden not in html
    assert "/admin/policy/policyrule/" in html


@pytest.mark.parametrize("path", ["/admin/login/", "/accounts/login/"])
def test_pages_link_our_favicon(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in response.content.decode()


def _choice_widgets(form_class):
    """(field name, the widget inside Django's add/change-link wrapper, related model) of each foreign key."""
    for name, field in form_class.base_fields.items():
        queryset = getattr(field, "queryset", None)
        if queryset is not None:
            yield name, getattr(field.widget, "widget", field.widget), queryset.model


def test_every_editable_foreign_key_to_a_big_table_is_an_autocomplete(rf):
    """Organizations, users, agents, conversations, billing and social accounts grow without bound: a <select> of
    them all would be slow and useless, so every form field that picks one searches instead."""
    from allauth.socialaccount.models import SocialAccount
    from django.contrib import admin
    from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple

    from accounts.models import User
    from agents.models import Agent, Conversation
    from billing.models import BillingAccount
    from tenants.models import Organization

    big_tables = {User, Organization, Agent, Conversation, BillingAccount, SocialAccount}
    request = rf.get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    checked, plain_selects = [], []
    for model, model_admin in admin.site._registry.items():
        forms = []
        if model_admin.has_add_permission(request):
            forms.append((model.__name__, model_admin.get_form(request)))
        if model_admin.has_change_permission(request):  # a read-only page shows values, it offers no choice
            forms.append((model.__name__, model_admin.get_form(request, obj=model(), change=True)))
        forms += [
            (f"{model.__name__} inline {inline.model.__name__}", inline.get_formset(request).form)
            for inline in model_admin.get_inline_instances(request)
        ]
        for where, form_class in forms:
            for name, widget, related in _choice_widgets(form_class):
                if related in big_tables:
                    checked.append(f"{where}.{name}")
                    if not isinstance(widget, AutocompleteSelect | AutocompleteSelectMultiple):
                        plain_selects.append(f"{where}.{name}")

    assert plain_selects == [], checked
    assert {"PolicyRule.organization", "Plan inline PlanAgent.agent", "User.organization", "EmailAddress.user"} <= set(
        checked
    )
