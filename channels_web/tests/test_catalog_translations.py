"""Issue 19: the Russian dashboard shows the operator's Russian plan and agent texts (English when none is
written), and "Profile saved." is said in the language just chosen."""

import pytest

from billing.models import Plan
from billing.tests.account_factories import BillingAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def russian_texts(agent, plan, premium_agent, yearly):
    agent.description = "Answers anything."
    agent.name_ru, agent.description_ru = "Помощник", "Отвечает на любые вопросы."
    agent.save()
    premium_agent.description = "Reads your numbers."  # no Russian text: the English one is shown
    premium_agent.save()
    plan.description, plan.description_ru = "A day of access.", "День доступа."
    plan.features, plan.features_ru = ["Email support"], ["Поддержка по почте"]
    plan.save()


def test_profile_saved_is_said_in_the_new_language(web_client):
    response = web_client.post("/profile/", {"name": "Анна", "locale": "ru"}, follow=True)

    assert "Профиль сохранён." in response.content.decode()
    assert "Profile saved." not in response.content.decode()


def test_the_russian_billing_page_shows_russian_plan_and_agent_texts(web_client, user, russian_texts, plan):
    BillingAccountFactory(organization=user.organization, plan=plan)
    english = web_client.get("/billing/").content.decode()
    user.locale = "ru"
    user.save()

    russian = web_client.get("/billing/").content.decode()

    assert "День доступа." in russian and "Поддержка по почте" in russian and "Помощник" in russian
    assert "A day of access." not in russian and "Email support" not in russian
    assert "A day of access." in english and "Email support" in english and "Помощник" not in english


def test_the_russian_dashboard_names_and_describes_agents_in_russian(web_client, user, russian_texts, account, agent):
    user.locale = "ru"
    user.save()

    html = web_client.get("/dashboard/").content.decode()

    assert f'<option value="{agent.pk}">Помощник</option>' in html
    assert "Отвечает на любые вопросы." in html
    assert "Reads your numbers." in html  # untranslated: the English description, not nothing


def test_the_admin_plan_form_takes_russian_features_one_per_line(admin_client, plan):
    page = admin_client.get(f"/admin/billing/plan/{plan.pk}/change/").content.decode()
    assert 'name="features_ru"' in page and 'name="description_ru"' in page

    from billing.admin import PlanForm

    data = {field: value for field, value in PlanForm(instance=plan).initial.items() if value is not None}
    data.update(channels=plan.channels, features_ru="Поддержка\n\n Приоритет ", description_ru="Описание")
    form = PlanForm(data=data, instance=plan)
    assert form.is_valid(), form.errors
    form.save()

    plan = Plan.objects.get(pk=plan.pk)
    assert plan.features_ru == ["Поддержка", "Приоритет"] and plan.description_ru == "Описание"


def test_the_admin_agent_page_has_the_russian_fields(admin_client, agent):
    page = admin_client.get(f"/admin/agents/agent/{agent.pk}/change/").content.decode()

    assert 'name="name_ru"' in page and 'name="description_ru"' in page
