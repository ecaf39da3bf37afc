"""The default queue and SLA policy remembered per process (``tickets.defaults``):
a filing without a queue reads neither while nothing changed, and follows every
change of a queue or a policy, made in this process or another one."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tickets import defaults, services
from tickets.models import Queue, SLAPolicy

from .factories import QueueFactory

# Committed changes: the new generation is set when a change commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def remembered(settings):
    settings.TICKET_DEFAULTS_CACHE = True  # as with Redis (one process here)
    cache.clear()
    defaults._remembered.forget()
    yield
    cache.clear()
    defaults._remembered.forget()


def _defaults_reads(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if 'FROM "tickets_queue"' in q["sql"] or 'FROM "tickets_slapolicy"' in q["sql"]
    ]


def file(user):
    with CaptureQueriesContext(connection) as queries:
        ticket = services.create_ticket(user, subject="Printer", description="Fire.")
    return ticket, _defaults_reads(queries.captured_queries)


def test_a_second_filing_reads_neither_the_default_queue_nor_the_policy(alice, queue):
    first, reads = file(alice)
    assert len(reads) == 2  # the default queue, the default policy (it has none)
    second, reads = file(alice)
    assert reads == []
    assert second.queue == queue
    assert second.resolution_due_at - second.created_at == timedelta(hours=72)


def test_a_new_default_queue_is_used_at_the_next_filing(alice, queue):
    file(alice)
    Queue.objects.filter(pk=queue.pk).update(is_default=False)  # no signal
    billing = QueueFactory(slug="billing", name="Billing", is_default=True)
    ticket, reads = file(alice)
    assert ticket.queue == billing
    assert len(reads) == 2


def test_a_new_default_policy_times_the_next_filing(alice, queue):
    file(alice)
    SLAPolicy.objects.create(name="Fast", is_default=True, resolution_minutes_medium=60)
    ticket, _reads = file(alice)
    assert ticket.resolution_due_at - ticket.created_at == timedelta(hours=1)


def test_a_change_made_by_another_process_is_seen_through_the_generation(alice, queue):
    file(alice)
    # Another process renames the queue: its signal set a new generation there.
    Queue.objects.filter(pk=queue.pk).update(name="Helpdesk")
    defaults._new_generation()
    ticket, reads = file(alice)
    assert ticket.queue.name == "Helpdesk"
    assert len(reads) == 2


def test_a_change_rolled_back_is_never_remembered(alice, queue):
    file(alice)
    with pytest.raises(RuntimeError), transaction.atomic():
        queue.name = "Renamed, then rolled back"
        queue.save()
        assert defaults.default_queue().name == "Renamed, then rolled back"
        raise RuntimeError
    assert defaults.default_queue().name == "Support"


def test_without_a_readable_generation_they_are_read_each_time(alice, queue, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    }
    file(alice)
    _ticket, reads = file(alice)
    assert len(reads) == 2


def test_switched_off_they_are_read_each_time(alice, queue, settings):
    settings.TICKET_DEFAULTS_CACHE = False
    file(alice)
    _ticket, reads = file(alice)
    assert len(reads) == 2


def test_callers_get_their_own_instances(queue):
    first = defaults.default_queue()
    first.name = "Changed on one caller's copy"
    assert defaults.default_queue().name == "Support"
