# ruff: noqa: S608 - constant SQL (trigger variants), no input
"""What G-8's tally triggers cost concurrent filings: tickets filed per second by
``PROCESSES`` processes (8, as the peer benchmark's wrk connections), each filing as ONE
customer into ONE queue through the portal form's service path (``services.
one_transaction`` + ``create_ticket`` with the deflection row in its statement, as
``tickets.portal.new._filed``), for ``SECONDS`` (20), under each trigger variant in
turn, alternated over ``ROUNDS`` (3); prints each round and the medians, with the
PostgreSQL backends' CPU per filing (``/proc/<pid>/schedstat``: a local server),
which other work on the machine disturbs less than the rate.

Run against a copy of the small peer set (never ``bench_*`` itself: it replaces the
triggers and files tickets)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_2_small \\
    REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python bench/tally_filing.py \\
        [variant ...]

Variants (``VARIANTS``): ``dropped`` (no tally trigger), ``current`` (the triggers of
the latest migration), and candidates built here from the same parts. Every variant
keeps the tallies' delete and move triggers as the current ones (only the inserts are
measured). At the end the latest migration's triggers are put back, the filed tickets
removed and the tallies recounted.
"""

import importlib
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import in_process_environment  # noqa: E402

in_process_environment()

import django  # noqa: E402

django.setup()

# isort: split

from django.db import connection, transaction  # noqa: E402

from bench import prepare  # noqa: E402

T0026 = importlib.import_module("tickets.migrations.0026_visibility_tallies")
LATEST = importlib.import_module("tickets.migrations.0028_tally_agents_only")
# 0029's grants function: returns before any work when no new row's user is listed
T0029 = importlib.import_module("tickets.migrations.0029_new_ticket_triggers")

PROCESSES = int(os.environ.get("PROCESSES", "8"))
SECONDS = float(os.environ.get("SECONDS", "20"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
VIEW = T0026.VIEW


def _row_functions(shards: int, grant_filter: str = "") -> str:
    """Row-level insert functions: one upsert per ticket, one per view row."""
    return (
        "CREATE OR REPLACE FUNCTION bench_tally_ticket_row() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO tickets_queuetally AS q (queue_id, shard, tickets) "
        f"VALUES (NEW.queue_id, NEW.id % {shards}, 1) {T0026.QUEUE_UPSERT}; "
        "RETURN NULL; END $$;\n"
        "CREATE OR REPLACE FUNCTION bench_tally_grant_row() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NEW.permission_id = {VIEW} {grant_filter} THEN "
        "INSERT INTO tickets_granttally AS g (user_id, queue_id, shard, tickets) "
        f"SELECT NEW.user_id, t.queue_id, t.id % {shards}, 1 FROM tickets_ticket t "
        f"WHERE t.id = NEW.content_object_id {T0026.GRANT_UPSERT}; END IF; "
        "RETURN NULL; END $$;\n"
    )


def _row_triggers(deferred: bool) -> str:
    kind = (
        "CONSTRAINT TRIGGER {name} AFTER INSERT ON {table} "
        "DEFERRABLE INITIALLY DEFERRED"
        if deferred
        else "TRIGGER {name} AFTER INSERT ON {table}"
    )
    return (
        "CREATE "
        + kind.format(name="tickets_tally_tickets_inserted", table="tickets_ticket")
        + " FOR EACH ROW EXECUTE FUNCTION bench_tally_ticket_row();\nCREATE "
        + kind.format(
            name="tickets_tally_grants_inserted",
            table="tickets_ticketuserobjectpermission",
        )
        + " FOR EACH ROW EXECUTE FUNCTION bench_tally_grant_row();\n"
    )


DROP_INSERTS = (
    "DROP TRIGGER IF EXISTS tickets_tally_tickets_inserted ON tickets_ticket;\n"
    "DROP TRIGGER IF EXISTS tickets_tally_grants_inserted "
    "ON tickets_ticketuserobjectpermission;\n"
)
# the users listed by 0028 (who work a queue) only
AGENT_FILTER = (
    "AND EXISTS (SELECT 1 FROM tickets_tallieduser u WHERE u.user_id = NEW.user_id)"
)


def current_0026() -> str:
    return LATEST.PG_DROP_ALL + T0026.PG_CREATE


def latest() -> str:
    return (
        LATEST.PG_DROP_ALL + T0026.PG_CREATE + LATEST.PG_CREATE + T0029.PG_TALLY_GRANTS
    )


VARIANTS = {
    "dropped": lambda: LATEST.PG_DROP_ALL,
    "current": current_0026,
    "row": lambda: (
        current_0026()
        + DROP_INSERTS
        + _row_functions(16)
        + _row_triggers(deferred=False)
    ),
    "deferred": lambda: (
        current_0026()
        + DROP_INSERTS
        + _row_functions(16)
        + _row_triggers(deferred=True)
    ),
    "shards64": lambda: current_0026().replace("% 16", "% 64"),
    "latest": latest,
    "row_agents": lambda: (
        latest()
        + DROP_INSERTS
        + _row_functions(16, AGENT_FILTER)
        + _row_triggers(deferred=False)
    ),
}


def install(variant: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(VARIANTS[variant]())


def backend_cpu_ms(pid) -> float:
    """A backend's CPU so far, ms (``/proc/<pid>/schedstat``: local server only)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e6


def file_one(user, services, deflection, Source):
    filing = deflection.Filing(
        token=str(uuid.uuid4()), user=user, session_key=f"bench{os.getpid()}"
    )
    with services.one_transaction():
        ticket = services.create_ticket(
            user,
            subject="Benchmark: printer on fire",
            description=prepare.FILED_DESCRIPTION,
            category="technical",
            priority="medium",
            source=Source.PORTAL,
            more=filing.part if filing.at_once() else None,
        )
        filing.record(ticket)


def worker() -> None:
    """Files 3 tickets (the process's first statements, plpgsql compiles), says
    ``ready``, reads ``start end`` (epoch seconds) and files from start to end."""
    from tickets import deflection, services
    from tickets.models import Source

    user = prepare.filer()
    for _ in range(3):
        file_one(user, services, deflection, Source)
    connection.close()  # each variant's triggers are read anew by a new backend
    print("ready", flush=True)
    start, end = map(float, sys.stdin.readline().split())
    file_one(user, services, deflection, Source)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    while time.time() < start:
        time.sleep(0.002)
    filed, cpu = 0, backend_cpu_ms(pid)
    while time.time() < end:
        file_one(user, services, deflection, Source)
        filed += 1
    print(filed, backend_cpu_ms(pid) - cpu, flush=True)


def run(variant: str) -> float:
    install(variant)
    connection.close()
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for proc in procs:  # every process set up (30 s under load) before the clock
        assert proc.stdout.readline().strip() == "ready"
    start = time.time() + 1
    for proc in procs:
        proc.stdin.write(f"{start} {start + SECONDS}\n")
        proc.stdin.flush()
    ends = [proc.communicate()[0].split()[-2:] for proc in procs]
    filed = sum(int(n) for n, _ in ends)
    return filed / SECONDS, sum(float(ms) for _, ms in ends) / max(filed, 1)


def main(variants: list[str]) -> None:
    results = {v: [] for v in variants}
    try:
        for round_ in range(ROUNDS):
            for variant in variants if round_ % 2 == 0 else variants[::-1]:
                rate, cpu = run(variant)
                results[variant].append((rate, cpu))
                print(
                    f"round {round_ + 1} {variant}: {rate:.1f} tickets/s, backend "
                    f"CPU {cpu:.3f} ms a filing",
                    flush=True,
                )
    finally:
        install("latest")
        removed = prepare.remove_earlier_filings()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM tickets_queuetally")
            cursor.execute(T0026.BACKFILL[0])
            cursor.execute("DELETE FROM tickets_tallieduser")
            for statement in LATEST.PG_BACKFILL:
                cursor.execute(statement)
        print(f"removed {removed} rows of filings; tallies recounted")
    for variant, measured in results.items():
        rates, cpus = [r for r, _ in measured], [c for _, c in measured]
        rounds = " / ".join(f"{r:.1f}" for r in rates)
        print(
            f"{variant}: median {statistics.median(rates):.1f} tickets/s ({rounds}); "
            f"backend CPU median {statistics.median(cpus):.3f} ms a filing"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker()
    else:
        main(sys.argv[1:] or list(VARIANTS))
