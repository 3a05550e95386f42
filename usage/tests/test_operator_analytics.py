"""/admin/analytics/: who may see it, the margin arithmetic on a scenario checked by hand, MRR, movements,
latency percentiles, CSV downloads and a query count that does not grow with the number of calls."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from billing.analytics import Window
from billing.models import AccountStatus, PaymentStatus
from billing.tests.account_factories import BillingAccountFactory, PaymentFactory
from billing.tests.factories import PlanFactory
from botgeneric.channels import Channel
from tenants.models import AuditEvent
from tenants.tests.factories import OrganizationFactory
from usage.analytics import full_weeks, organization_agent_totals
from usage.models import LATENCY_BUCKETS_MS, Outcome, UsageEvent
from usage.rollups import roll_up

pytestmark = pytest.mark.django_db

URL = "/admin/analytics/"
START, END = date(2026, 1, 1), date(2026, 1, 10)
CENT = Decimal("0.01")
PERIOD = {"start": START.isoformat(), "end": END.isoformat(), "currency": "USD"}


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


def staff_client(client, *codenames):
    user = UserFactory(is_staff=True, organization=None)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="billing", codename__in=codenames))
    client.force_login(user)
    return client


@pytest.fixture
def analyst(client):
    return staff_client(client, "view_revenue")


def event(*, organization, agent, when, cost="0", outcome=Outcome.OK, latency_ms=100, user=None, **fields):
    row = UsageEvent.objects.create(
        organization=organization,
        user=user,
        agent=agent,
        channel=fields.pop("channel", Channel.API),
        outcome=outcome,
        latency_ms=latency_ms,
        cost_usd=Decimal(cost),
        **fields,
    )
    UsageEvent.objects.filter(pk=row.pk).update(created_at=when)
    return row


def pay(organization, amount: str, start: datetime, end: datetime, *, plan=None, currency="USD"):
    account = BillingAccountFactory(organization=organization, plan=plan)
    return PaymentFactory(
        account=account,
        amount=Decimal(amount),
        currency=currency,
        status=PaymentStatus.SUCCEEDED,
        plan=plan,
        period_start=start,
        period_end=end,
    )


def table(client, name: str, **params) -> list[dict]:
    response = client.get(URL, {**PERIOD, **params, "export": name})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_only_staff_with_the_revenue_permission_see_analytics(client):
    assert client.get(URL).status_code == 302  # to the admin's login

    clerk = staff_client(client, "view_payment")
    assert clerk.get(URL).status_code == 403
    assert clerk.get(URL, {"export": "daily"}).status_code == 403
    assert b"/admin/analytics/" not in clerk.get("/admin/").content

    analyst = staff_client(client, "view_revenue")
    assert analyst.get(URL).status_code == 200
    assert b"/admin/analytics/" in analyst.get("/admin/").content


def test_margins_allocate_revenue_pro_rata_and_subtract_the_organizations_llm_cost(analyst):
    monthly, yearly = PlanFactory(name="Monthly"), PlanFactory(name="Yearly")
    writer, coder = AgentFactory(name="Writer"), AgentFactory(name="Coder")
    alpha, beta, gamma = (OrganizationFactory(name=name) for name in ("Alpha", "Beta", "Gamma"))
    # Alpha paid 30.00 for a 30-day period that starts with the window: 10 of its days fall in it.
    pay(alpha, "30.00", at(1, 0), at(31, 0), plan=monthly)
    # Beta paid 120.00 for Jan 6 – Jan 16 (10 days): 5 of them (Jan 6 – 10) fall in the window.
    pay(beta, "120.00", at(6, 0), at(16, 0), plan=yearly)
    # A payment outside the window, and one refunded, count for nothing.
    pay(OrganizationFactory(name="Delta"), "50.00", at(12, 0), at(20, 0), plan=monthly)
    PaymentFactory(
        account=alpha.billing_account,
        amount=Decimal("99"),
        status=PaymentStatus.REFUNDED,
        period_start=at(1, 0),
        period_end=at(31, 0),
    )
    # Alpha's calls: 3 answered by Writer (2.00 USD), 1 by Coder (0.50 USD), and a denial (no cost).
    for cost in ("1.00", "0.60", "0.40"):
        event(organization=alpha, agent=writer, when=at(2), cost=cost)
    event(organization=alpha, agent=coder, when=at(9), cost="0.50")
    event(organization=alpha, agent=coder, when=at(9), outcome=Outcome.DENIED)
    # Gamma (Monthly, no payment): 1.25 USD of calls; an event after the window does not count.
    BillingAccountFactory(organization=gamma, plan=monthly, status=AccountStatus.TRIALING)
    event(organization=gamma, agent=writer, when=at(10, 23), cost="1.25")
    event(organization=gamma, agent=writer, when=at(11, 1), cost="7.00")
    roll_up(now=timezone.now())

    alpha_revenue = Decimal("30.00") * 10 / 30
    beta_revenue = Decimal("120.00") * 5 / 10
    alpha_cost, gamma_cost = Decimal("2.50"), Decimal("1.25")
    by_org = {row["Name"]: row for row in table(analyst, "margin_org")}
    assert set(by_org) == {"Alpha", "Beta", "Gamma"}
    assert by_org["Alpha"]["Revenue (allocated)"] == f"{alpha_revenue:.2f}"
    assert by_org["Alpha"]["LLM cost (USD)"] == f"{alpha_cost:.6f}"
    assert by_org["Alpha"]["Margin"] == f"{alpha_revenue - alpha_cost:.2f}"
    assert by_org["Beta"]["Margin"] == f"{beta_revenue:.2f}"
    assert by_org["Gamma"]["Margin"] == f"{-gamma_cost:.2f}"

    by_plan = {row["Name"]: row for row in table(analyst, "margin_plan")}
    assert by_plan["Monthly"]["Margin"] == f"{alpha_revenue - alpha_cost - gamma_cost:.2f}"
    assert by_plan["Yearly"]["Margin"] == f"{beta_revenue:.2f}"

    # Alpha's revenue is shared by answered calls: Writer 3 of 4, Coder 1 of 4; Beta made no call.
    by_agent = {row["Name"]: row for row in table(analyst, "margin_agent")}
    writer_revenue = alpha_revenue * 3 / 4
    assert by_agent["Writer"]["Revenue (allocated)"] == f"{writer_revenue:.2f}"
    assert by_agent["Writer"]["Margin"] == f"{writer_revenue - Decimal('2.00') - gamma_cost:.2f}"
    assert by_agent["Coder"]["Margin"] == f"{alpha_revenue / 4 - Decimal('0.50'):.2f}"
    assert by_agent["no calls"]["Revenue (allocated)"] == f"{beta_revenue:.2f}"

    page = analyst.get(URL, PERIOD)
    html = page.content.decode()
    total_margin = alpha_revenue + beta_revenue - alpha_cost - gamma_cost
    assert f'id="margin">{total_margin.quantize(Decimal("0.01"))} USD<' in html
    assert "0000000" not in html  # amounts formatted, never raw decimals


def test_another_currency_needs_the_price_of_a_dollar_for_margins(analyst):
    org = OrganizationFactory(name="Rouble")
    pay(org, "900.00", at(1, 0), at(11, 0), currency="RUB")
    event(organization=org, agent=None, when=at(3), cost="2.00")
    roll_up(now=timezone.now())

    without_rate = table(analyst, "margin_org", currency="RUB")
    with_rate = table(analyst, "margin_org", currency="RUB", usd_rate="90")

    assert without_rate[0]["Revenue (allocated)"] == "900.00" and without_rate[0]["Margin"] == ""
    assert with_rate[0]["Margin"] == f"{Decimal('900') - Decimal('2.00') * 90:.2f}"


def test_mrr_movements_trial_conversion_and_revenue_per_day(analyst):
    plan = PlanFactory(name="Monthly")
    paying, trying, leaving = (OrganizationFactory() for _ in range(3))
    # Before the window: a 30-day month of 30.00 running at its start (Dec 20 – Jan 19) and still at its end.
    payment = pay(paying, "30.00", datetime(2025, 12, 20, tzinfo=UTC), datetime(2026, 1, 19, tzinfo=UTC), plan=plan)
    PaymentFactory(account=paying.billing_account, amount=Decimal("12.00"), status=PaymentStatus.SUCCEEDED)
    for org, action, day in (
        (trying, "subscription.trial_started", 2),
        (trying, "subscription.activated", 5),
        (paying, "subscription.upgraded", 3),
        (leaving, "subscription.trial_started", 4),
        (leaving, "subscription.expired", 8),
    ):
        row = AuditEvent.objects.create(organization=org, action=action, target_type="billing_account", target_id="1")
        AuditEvent.objects.filter(pk=row.pk).update(created_at=at(day))
    paid_on = payment.created_at.date()

    response = analyst.get(URL, {**PERIOD, "start": START.isoformat(), "end": END.isoformat()})
    report = response.context["report"]

    per_month = payment.amount * (Decimal("365.25") / 12) / 30  # 30 days paid; an average month
    assert report["mrr"].quantize(CENT) == report["mrr_before"].quantize(CENT) == per_month.quantize(CENT)
    assert report["mrr_change"] == 0
    assert report["movements"] == {"new": 1, "upgraded": 1, "downgraded": 0, "churned": 1}
    assert report["trials"] == {"trials": 2, "converted": 1, "rate": 0.5}
    today = table(analyst, "daily", start=paid_on.isoformat(), end=paid_on.isoformat())
    assert today == [
        {"Day (UTC)": paid_on.isoformat(), "Payments": "2", "Revenue": "42.00", "Calls": "0", "LLM cost": "0.000000"}
    ]


def test_error_rate_and_latency_percentiles_per_agent_come_from_the_histogram(analyst):
    agent = AgentFactory(name="Timer")
    org = OrganizationFactory()
    latencies = [100] * 10 + [900] * 9 + [20000]
    for latency in latencies:
        event(organization=org, agent=agent, when=at(4), latency_ms=latency)
    event(organization=org, agent=agent, when=at(4), outcome=Outcome.ERROR, latency_ms=0)
    roll_up(now=timezone.now())

    [row] = table(analyst, "health_agent")

    def quantile(q: float) -> float:
        bounds, seen, lower, target = [*LATENCY_BUCKETS_MS], 0, 0, q * len(latencies)
        for upper in bounds:
            count = sum(1 for value in latencies if lower < value <= upper or (lower == 0 and value == 0))
            if count and seen + count >= target:
                return lower + (upper - lower) * (target - seen) / count
            seen, lower = seen + count, upper
        raise AssertionError

    assert (row["Name"], row["Calls"], row["Failed"]) == ("Timer", "21", "1")
    assert row["Error rate"] == f"{1 / 21:.4f}"
    assert row["Latency p50"] == f"{quantile(0.5):.0f}"
    assert row["Latency p95"] == f"{quantile(0.95):.0f}"


def test_a_bad_period_is_a_400_with_the_field(analyst):
    response = analyst.get(URL, {"start": "2026-02-01", "end": "2026-01-01"})

    assert response.status_code == 400
    assert "start" in response.context["form"].errors


def test_a_name_is_never_a_spreadsheet_formula_in_the_csv(analyst):
    org = OrganizationFactory(name="=HYPERLINK(1)")
    event(organization=org, agent=None, when=at(3), cost="0.10")
    roll_up(now=timezone.now())

    [row] = table(analyst, "top_cost")

    assert row["Organization"] == "'=HYPERLINK(1)"


def test_a_loss_under_a_cent_reads_as_zero_not_minus_zero(analyst):
    event(organization=OrganizationFactory(name="Tiny"), agent=None, when=at(3), cost="0.004")
    roll_up(now=timezone.now())

    [row] = table(analyst, "margin_org")

    assert (row["LLM cost (USD)"], row["Margin"]) == ("0.004000", "0.00")
    assert 'id="margin">0.00 USD<' in analyst.get(URL, PERIOD).content.decode()


def test_an_unknown_table_is_a_404(analyst):
    assert analyst.get(URL, {**PERIOD, "export": "nothing"}).status_code == 404


def _usage(count: int):
    agents = [AgentFactory() for _ in range(3)]
    for index in range(count):
        org = OrganizationFactory()
        pay(org, "10.00", at(1, 0), at(31, 0), plan=PlanFactory())
        for agent in agents:
            event(
                organization=org, agent=agent, when=at(1 + index % 9), cost="0.01", user=UserFactory(organization=org)
            )


def test_the_page_costs_the_same_queries_with_ten_times_the_calls(analyst, django_assert_max_num_queries):
    _usage(2)
    roll_up(now=timezone.now())
    with django_assert_max_num_queries(28) as small:
        assert analyst.get(URL, PERIOD).status_code == 200

    _usage(20)
    roll_up(now=timezone.now())
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert analyst.get(URL, PERIOD).status_code == 200


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 1, 5), date(2026, 1, 18)),
        (date(2026, 1, 6), date(2026, 1, 20)),
    ],
)
def test_whole_weeks_and_edge_days_add_up_to_the_calls_of_the_window(start, end):
    orgs, agents = [OrganizationFactory(), OrganizationFactory()], [AgentFactory(), None]
    for day in range(1, 32):
        for index, org in enumerate(orgs):
            event(organization=org, agent=agents[(day + index) % 2], when=at(day), cost=f"0.{day:02d}")
    roll_up(now=timezone.now())
    window = Window(start, end)

    totals = {(row["organization_id"], row["agent_id"]): row for row in organization_agent_totals(window)}

    expected = {}
    for event_row in UsageEvent.objects.filter(created_at__date__gte=start, created_at__date__lte=end):
        key = (event_row.organization_id, event_row.agent_id)
        expected[key] = expected.get(key, Decimal(0)) + event_row.cost_usd
    assert {key: row["cost"] for key, row in totals.items()} == expected
    assert full_weeks(window) is not None
