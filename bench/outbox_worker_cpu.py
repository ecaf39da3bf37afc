"""The job worker's wake-up jobs per filing, in-process: the claim, the emails and the
outcomes of each filing's outbox rows (``tasks.deliver_notifications``, as the worker
runs it), on one kept connection, without django-q2 and without idle time to subtract
(``bench/job_worker_cpu.py`` measures the whole cluster).

Run against a copy of ``bench_full`` (never the original: it files tickets)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_4_bench \\
    REDIS_URL=redis://127.0.0.1:6379/8 .venv/bin/python bench/outbox_worker_cpu.py [N]

Files N tickets (their wake-up jobs are dropped from the queue), then delivers each
filing's rows as its job would. Prints per filing: this process's CPU
(``time.process_time``) and the PostgreSQL backend's (``/proc/<pid>/schedstat``), the
WAL written (the whole cluster's), the outbox's updates and how many were HOT
(``pg_stat_xact``-free: the table's counters before and after, flushed), and the
prepared statements' plans. The filed tickets are removed at the end.
"""

import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import in_process_environment  # noqa: E402


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    in_process_environment()
    os.environ.pop("BENCH_COUNT_QUERIES", None)
    import django

    django.setup()
    from django.db import connection

    from bench.filing_cpu import backend_cpu_ms
    from bench.prepare import filer, remove_earlier_filings
    from portal.jobs import broker
    from portal.notifications import tasks
    from portal.notifications.models import SentNotification
    from tickets import services

    def stats():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
            cursor.execute(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
                "WHERE relname = %s",
                [SentNotification._meta.db_table],
            )
            return cursor.fetchone()

    user = filer()
    first = SentNotification.objects.order_by("-pk").values_list("pk", flat=True)
    first = first[0] if first else 0
    for n in range(count):
        services.create_ticket(
            user,
            subject=f"Outbox worker CPU {n}",
            description="Created by the benchmark harness.",
        )
    broker().connection.delete("django_q:portal:q")
    jobs = defaultdict(list)
    for key in (
        SentNotification.objects.filter(pk__gt=first)
        .order_by("pk")
        .values_list("idempotency_key", flat=True)
    ):
        jobs[key.rsplit(":", 2)[0]].append(key)
    time.sleep(1.5)  # the filings' own statistics flushed
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    updates = stats()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        lsn = cursor.fetchone()[0]
    cpu, database = time.process_time(), backend_cpu_ms(pid)
    for keys in jobs.values():
        tasks.deliver_notifications(keys)
    cpu, database = time.process_time() - cpu, backend_cpu_ms(pid) - database
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", [lsn])
        wal = cursor.fetchone()[0]
        cursor.execute(
            "SELECT generic_plans, custom_plans, left(statement, 30) "
            "FROM pg_prepared_statements"
        )
        plans = cursor.fetchall()
    after = stats()
    emails = SentNotification.objects.filter(pk__gt=first).exclude(status="pending")
    print(
        f"filings {len(jobs)}, emails {emails.count()}; per filing: worker "
        f"{cpu * 1000 / len(jobs):.2f} ms, its backend {database / len(jobs):.2f} ms, "
        f"WAL {int(wal) / len(jobs):.0f} bytes; outbox updates {after[0] - updates[0]}, "
        f"HOT {after[1] - updates[1]}; prepared {plans}"
    )
    remove_earlier_filings()


if __name__ == "__main__":
    main()
