"""The first calls of a new period race to create its counter; none of them may be refused for it."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection

from policy.tests.factories import BillingAccountFactory
from usage.models import PeriodCounter
from usage.services import reserve

CALLERS = 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_reservations_of_a_period_all_succeed_on_an_unlimited_plan():
    account = BillingAccountFactory(plan__quota_requests=None)
    start = Barrier(CALLERS)

    def first_call(_):
        try:
            start.wait()
            return reserve(
                account=account,
                period_start=account.current_period_start,
                period_end=account.current_period_end,
                limits={"requests": None, "tokens_input": None, "tokens_output": None},
                tokens_input=5,
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        results = list(pool.map(first_call, range(CALLERS)))

    assert all(result is not None for result in results)
    # Each caller is told the counter right after its own reservation: every count from 1 to CALLERS once.
    assert sorted(result["requests"] for result in results) == list(range(1, CALLERS + 1))
    counter = PeriodCounter.objects.get(account=account)
    assert (counter.requests, counter.tokens_input) == (CALLERS, 5 * CALLERS)


@pytest.mark.django_db
def test_a_used_up_quota_is_still_refused_after_the_counter_exists():
    account = BillingAccountFactory(plan__quota_requests=1)
    arguments = {
        "account": account,
        "period_start": account.current_period_start,
        "period_end": account.current_period_end,
        "limits": {"requests": 1, "tokens_input": None, "tokens_output": None},
        "tokens_input": 0,
    }
    assert reserve(**arguments) == {"requests": 1, "tokens_input": 0, "tokens_output": 0}
    assert reserve(**arguments) is None
    assert PeriodCounter.objects.get(account=account).requests == 1
