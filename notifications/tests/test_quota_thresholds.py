"""Issue 17 item 4: quota at 80 % and 100 % of a metric, once per period, to owners and admins. The
crossing is seen by the reservation's own conditional UPDATE (usage.thresholds.threshold_crossed)."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier, Lock

import pytest
from django.core import mail
from django.db import connection

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from botgeneric.channels import Channel
from notifications.models import Kind, Notification
from policy.errors import PolicyDenied
from policy.services import authorize
from policy.tests.factories import BillingAccountFactory
from tenants.models import Role
from usage.services import reserve
from usage.thresholds import threshold_crossed

CALLERS = 16


@pytest.fixture
def subscribed(db):
    owner = UserFactory(role=Role.OWNER)
    agent = AgentFactory(with_prompt=True)
    plan = PlanFactory(agents=[agent], quota_requests=5)
    BillingAccountFactory(organization=owner.organization, plan=plan)
    return owner, agent


def call(user, agent):
    return authorize(user=user, agent=agent, channel=Channel.WEB)


@pytest.mark.django_db
def test_owners_and_admins_are_told_at_80_and_100_percent_once_each(subscribed, django_capture_on_commit_callbacks):
    owner, agent = subscribed
    admin = UserFactory(organization=owner.organization, role=Role.ADMIN, locale="ru")
    member = UserFactory(organization=owner.organization, role=Role.MEMBER)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            call(member, agent)
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        call(member, agent)  # 4 of 5: 80 %
    assert sorted(message.to[0] for message in mail.outbox) == sorted([owner.email, admin.email])
    russian = next(message for message in mail.outbox if message.to == [admin.email])
    assert russian.subject == "Использовано 80 % квоты запросов"

    with django_capture_on_commit_callbacks(execute=True):
        call(member, agent)  # 5 of 5: 100 %
        for _ in range(2):
            with pytest.raises(PolicyDenied):
                call(member, agent)  # refused: used up, already told
    reached = [message for message in mail.outbox if "used up" in message.subject or "исчерпана" in message.subject]
    assert len(reached) == 2
    assert len(mail.outbox) == 4
    kinds = sorted(Notification.objects.values_list("kind", "user_id"))
    assert kinds == sorted(
        [(kind, user.pk) for kind in (Kind.QUOTA_WARNING, Kind.QUOTA_REACHED) for user in (owner, admin)]
    )


@pytest.mark.django_db
def test_a_call_that_crosses_nothing_makes_no_extra_query(subscribed, django_assert_num_queries):
    owner, agent = subscribed
    call(owner, agent)  # the counter exists from here on
    access_and_reserve = 2  # the account (with the rules' version) and the conditional UPDATE
    with django_assert_num_queries(access_and_reserve):
        call(owner, agent)


@pytest.mark.django_db
def test_a_token_quota_used_up_is_reported_when_a_call_is_refused(db, django_capture_on_commit_callbacks):
    owner = UserFactory(role=Role.OWNER)
    agent = AgentFactory(with_prompt=True)
    plan = PlanFactory(agents=[agent], quota_requests=None, quota_tokens_input=100)
    BillingAccountFactory(organization=owner.organization, plan=plan)
    with django_capture_on_commit_callbacks(execute=True):
        authorize(user=owner, agent=agent, channel=Channel.WEB, meta={"tokens_input": 70})
        with pytest.raises(PolicyDenied):
            authorize(user=owner, agent=agent, channel=Channel.WEB, meta={"tokens_input": 50})
    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects == ["Your input tokens quota is used up"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_cross_each_threshold_exactly_once():
    account = BillingAccountFactory(plan__quota_requests=10)
    crossings, lock, start = [], Lock(), Barrier(CALLERS)

    def heard(sender, **event):
        with lock:
            crossings.append((event["metric"], event["percent"], event["used"]))

    threshold_crossed.connect(heard, dispatch_uid="test.heard")

    def one_call(_):
        try:
            start.wait()
            return reserve(
                account=account,
                period_start=account.current_period_start,
                period_end=account.current_period_end,
                limits={"requests": 10, "tokens_input": None, "tokens_output": None},
                tokens_input=0,
            )
        finally:
            connection.close()

    try:
        with ThreadPoolExecutor(max_workers=CALLERS) as pool:
            results = list(pool.map(one_call, range(CALLERS)))
    finally:
        threshold_crossed.disconnect(dispatch_uid="test.heard")

    assert sum(result is not None for result in results) == 10
    assert sorted(crossings) == [("requests", 80, 8), ("requests", 100, 10)]


@pytest.mark.django_db
def test_a_call_that_jumps_past_both_thresholds_tells_only_that_the_quota_is_used_up(
    django_capture_on_commit_callbacks,
):
    owner = UserFactory(role=Role.OWNER)
    agent = AgentFactory(with_prompt=True)
    BillingAccountFactory(organization=owner.organization, plan=PlanFactory(agents=[agent], quota_requests=1))
    with django_capture_on_commit_callbacks(execute=True):
        call(owner, agent)
    assert [message.subject for message in mail.outbox] == ["Your requests quota is used up"]
