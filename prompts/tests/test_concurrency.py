"""Races on PostgreSQL with real threads: the agent row lock and the partial unique index hold."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from agents.tests.factories import AgentFactory
from prompts import services
from prompts.models import PromptVersion, Status
from prompts.tests.factories import ActivePromptVersionFactory, PromptVersionFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _run_concurrently(target, args_list):
    barrier = threading.Barrier(len(args_list))
    errors = []

    def worker(*args):
        try:
            barrier.wait()
            target(*args)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=args) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_concurrent_draft_creation_gives_distinct_consecutive_numbers():
    agent = AgentFactory()

    def create(index):
        services.create_draft(agent=agent, system_prompt=f"Draft {index}")

    errors = _run_concurrently(create, [(i,) for i in range(THREADS)])
    assert errors == []
    numbers = sorted(PromptVersion.objects.filter(agent=agent).values_list("version", flat=True))
    assert numbers == list(range(1, THREADS + 1))


def test_racing_activations_leave_exactly_one_active_version():
    agent = AgentFactory()
    ActivePromptVersionFactory(agent=agent)
    drafts = [PromptVersionFactory(agent=agent) for _ in range(THREADS)]

    errors = _run_concurrently(lambda draft: services.activate_version(version=draft), [(d,) for d in drafts])
    assert errors == []
    statuses = list(PromptVersion.objects.filter(agent=agent).values_list("status", flat=True))
    assert statuses.count(Status.ACTIVE) == 1
    assert statuses.count(Status.ARCHIVED) == THREADS


def test_the_database_refuses_a_second_active_version():
    active = ActivePromptVersionFactory()
    draft = PromptVersionFactory(agent=active.agent)
    with pytest.raises(IntegrityError), transaction.atomic():
        PromptVersion.objects.filter(pk=draft.pk).update(status=Status.ACTIVE)
