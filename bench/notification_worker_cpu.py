"""The job worker's CPU per filed ticket in notification delivery, in-process.

Files tickets through ``tickets.services.create_ticket`` in a test database (a queue
of ten agents besides the filer: eleven emails per filing), then times the delivery of
each filing's outbox rows as the wake-up job does (``sending.deliver(keys)``) with
``time.process_time``. Run it explicitly (not part of the suite):

    .venv/bin/python -m pytest bench/notification_worker_cpu.py -q -s -p no:cacheprovider

(``PROFILE=1`` prints a cProfile of the deliveries after the first five, and their
Python function calls per filing: deterministic, unlike the times.) The test database
is not wrapped in a transaction (``transaction=True``): on PostgreSQL the worker's
outcomes are written as in production, each its own autocommit statement; the
statements per filing are printed too. With ``DATABASE_URL`` on PostgreSQL.
"""

import cProfile
import os
import pstats
import statistics
import sys
import time

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organization
from portal.notifications import dispatch, sending
from portal.notifications.models import SentNotification
from tickets import services
from tickets.tests.factories import QueueFactory, make_agent, make_customer

FILINGS = 50


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "backend",
    [
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.console.EmailBackend",
    ],
)
def test_worker_cpu_per_filing(settings, monkeypatch, backend):
    settings.EMAIL_BACKEND = backend
    # the wake-up job would run at the commit (sync in tests): delivered below instead
    monkeypatch.setattr(dispatch, "enqueue", lambda *args, **kwargs: None)
    queue = QueueFactory(slug="support", name="Support", is_default=True)
    for n in range(10):
        make_agent(
            queue,
            email=f"agent{n}@example.com",
            display_name=f"Agent {n}",
            locale="pl" if n % 3 == 0 else "",
        )
    org = Organization.objects.create(name="Acme", slug="acme")
    alice = make_customer(org, email="alice@acme.example", display_name="Alice")
    times, statements = [], []
    profiler = cProfile.Profile() if os.environ.get("PROFILE") else None
    stdout = sys.stdout
    with open(os.devnull, "w") as sink:
        for n in range(FILINGS):
            seen = set(SentNotification.objects.values_list("pk", flat=True))
            services.create_ticket(
                alice, subject=f"Printer {n} is on fire", description="Help!\n" * 5
            )
            keys = list(
                SentNotification.objects.exclude(pk__in=seen).values_list(
                    "idempotency_key", flat=True
                )
            )
            sys.stdout = sink
            try:
                if profiler and n >= 5:
                    profiler.enable()
                with CaptureQueriesContext(connection) as queries:
                    start = time.process_time()
                    outcomes = sending.deliver(keys)
                    times.append((time.process_time() - start) * 1000)
                statements.append(len(queries))
                if profiler:
                    profiler.disable()
            finally:
                sys.stdout = stdout
            assert list(outcomes.values()) == ["sent"] * 11, outcomes
    times = times[5:]
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(45)
        print(f"Python calls per filing: {stats.total_calls / len(times):.0f}")
    print(
        f"\n{backend.split('.')[-2]}: {len(keys)} emails per filing; worker CPU per "
        f"filing mean {statistics.mean(times):.1f} ms, median "
        f"{statistics.median(times):.1f} ms (n={len(times)}); statements "
        f"{statistics.mean(statements[5:]):.1f} per filing ({connection.vendor})"
    )
    mail.outbox = []
