import pytest

from billing.tests.account_factories import make_plan


@pytest.fixture
def monthly(db):
    return make_plan("monthly", prices={"USD": "19.99", "RUB": "990.00"}, order=3)


@pytest.fixture
def yearly(db):
    return make_plan("yearly", interval="year", prices={"USD": "199.99"}, order=4)


@pytest.fixture
def weekly(db):
    return make_plan("weekly", interval="week", prices={"USD": "4.99"}, order=2)
