"""Does a filing get dearer as filings pile up? In-process, no wrk, no job worker.

Files portal form POSTs as ``bench/peer.py``'s ``create_ticket`` scenario sends them
(the filer of ``bench/prepare.py``, its urlencoded body, ``FILED_DESCRIPTION``), in
batches, and records per batch what could grow with the number of filings::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_1_peer \\
    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/filing_growth.py [BATCH] [BATCHES]

Run it against a copy of a benchmark database (never the generated original: it
files tickets and, at the end, removes them as ``bench/prepare.py`` does; ``KEEP=1``
keeps them, e.g. to run again on top of them). Per batch (default 8 × 500):

- process CPU and wall time per filing (median, mean, slowest: a stall such as a GIN
  pending list flushed by one INSERT shows as one slow filing);
- the PostgreSQL backend's CPU per filing (``/proc/<pid>/schedstat``), by statement;
- Python calls per filing (cProfile over the batch's last ``PROFILED`` filings);
- Redis commands per filing (redis-py's ``send_packed_command`` / ``read_response``
  counted), the Redis database's key count and django-q2's queue length;
- each statement shape of the batch's last filing run again under ``EXPLAIN
  (ANALYZE, BUFFERS)`` in a rolled-back transaction: execution ms, buffers (hit +
  read) and the plan's scans with their rows;
- the filing tables' live and dead rows (``pg_stat_user_tables``), GIN pending lists
  (``pgstatginindex``) and hash indexes' pages (``pgstathashindex``) when
  ``pgstattuple`` is installed in the copy (``CREATE EXTENSION pgstattuple``);
- pending outbox rows and the filer's deflection rows.

``JSON=path`` writes the batches' figures as JSON too.
"""

import cProfile
import json
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# as wrk sends it: the urlencoded body and no ``messages`` cookie sent back (the test
# client would send every earlier filing's success message again: a harness's growth)
os.environ["BODY"] = "urlencoded"

from bench.filing_cpu import backend_cpu_ms, portal_post  # noqa: E402 - sets the env

# isort: split

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from bench import prepare  # noqa: E402

PROFILED = int(os.environ.get("PROFILED", "20"))
TABLES = (
    "tickets_ticket",
    "tickets_ticket_search",
    "tickets_ticket_match",
    "tickets_ticketevent",
    "tickets_ticketuserobjectpermission",
    "tickets_ticketgroupobjectpermission",
    "tickets_deflectionevent",
    "notifications_sentnotification",
    "django_session",
    "accounts_user",
)


def shape(sql: str) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= 100 else f"{flat[:55]} … {flat[-40:]}"


class Statements:
    """An execute wrapper: per statement shape, the backend's CPU and wall ms; keeps
    the last (sql, params) of each shape for ``EXPLAIN``."""

    def __init__(self, pid):
        self.pid, self.cpu, self.wall, self.last = pid, {}, {}, {}

    def __call__(self, execute, sql, params, many, context):
        cpu, wall = backend_cpu_ms(self.pid), time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = shape(sql)
            self.cpu[key] = self.cpu.get(key, 0) + backend_cpu_ms(self.pid) - cpu
            self.wall[key] = self.wall.get(key, 0) + (time.perf_counter() - wall) * 1000
            if not many:
                self.last[key] = (sql, params)


class RedisCalls:
    """redis-py's commands sent and replies read, counted (every client of the
    process: the cache, the rate limit's script, django-q2's broker)."""

    def __init__(self):
        from redis.connection import AbstractConnection

        self.sent = self.read = 0
        send, read = (
            AbstractConnection.send_packed_command,
            AbstractConnection.read_response,
        )
        counter = self

        def send_packed_command(self, command, *args, **kwargs):
            counter.sent += 1
            return send(self, command, *args, **kwargs)

        def read_response(self, *args, **kwargs):
            counter.read += 1
            return read(self, *args, **kwargs)

        AbstractConnection.send_packed_command = send_packed_command
        AbstractConnection.read_response = read_response


def rows(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def has_pgstattuple() -> bool:
    return bool(rows("SELECT 1 FROM pg_extension WHERE extname = 'pgstattuple'"))


def table_state() -> dict:
    state = {}
    for name, live, dead, upd, hot in rows(
        "SELECT relname, n_live_tup, n_dead_tup, n_tup_upd, n_tup_hot_upd "
        "FROM pg_stat_user_tables WHERE relname = ANY(%s)",
        [list(TABLES)],
    ):
        state[name] = {"live": live, "dead": dead, "upd": upd, "hot_upd": hot}
    return state


def index_state() -> dict:
    if not has_pgstattuple():
        return {}
    state = {}
    for name, kind in rows(
        "SELECT c.relname, am.amname FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_am am ON am.oid = c.relam "
        "WHERE t.relname = ANY(%s) AND am.amname IN ('gin', 'hash')",
        [list(TABLES)],
    ):
        if kind == "gin":
            ((pages, tuples),) = rows(
                "SELECT pending_pages, pending_tuples FROM pgstatginindex(%s::regclass)",
                [name],
            )
            state[name] = {"pending_pages": pages, "pending_tuples": tuples}
        else:
            ((buckets, overflow, dead),) = rows(
                "SELECT bucket_pages, overflow_pages, dead_items "
                "FROM pgstathashindex(%s::regclass)",
                [name],
            )
            state[name] = {"buckets": buckets, "overflow": overflow, "dead": dead}
    return state


def outbox_and_deflection(user) -> dict:
    ((pending,),) = rows(
        "SELECT count(*) FROM notifications_sentnotification WHERE status = 'pending'"
    )
    ((deflections,),) = rows(
        "SELECT count(*) FROM tickets_deflectionevent WHERE user_id = %s", [user.pk]
    )
    ((tickets,),) = rows(
        "SELECT count(*) FROM tickets_ticket WHERE requester_id = %s", [user.pk]
    )
    return {
        "pending_outbox": pending,
        "filer_deflection_rows": deflections,
        "filer_tickets": tickets,
    }


def redis_keys() -> dict:
    from django.core.cache import cache

    client = getattr(cache, "_cache", None)
    client = getattr(client, "get_client", None)
    if client is None:
        return {}
    redis = client(write=False)
    from django.conf import settings

    from portal.jobs import broker

    queue = broker()
    return {
        "redis_keys": redis.dbsize(),
        "jobs_queued": queue.queue_size(),
        "redis_db": settings.CACHES["default"]["LOCATION"].rsplit("/", 1)[-1],
    }


def explain(sql, params) -> dict:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of one statement in a rolled-back transaction."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
                (plan,) = cursor.fetchone()
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                text = [line for (line,) in cursor.fetchall()]
            transaction.set_rollback(True)
    except Exception as error:  # noqa: BLE001 - a report, not a test
        return {"error": f"{error.__class__.__name__}: {error}"[:200]}
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    top = plan["Plan"]
    scans = []
    for line in text:
        if "Scan" in line and "rows=" in line:
            actual = re.search(
                r"actual time=[\d.]+\.\.([\d.]+) rows=(\d+) loops=(\d+)", line
            )
            name = line.strip().lstrip("-> ").split("  (")[0]
            if actual:
                scans.append(
                    f"{name[:90]} rows={actual.group(2)} loops={actual.group(3)}"
                    f" ms={actual.group(1)}"
                )
        if "Rows Removed by Filter" in line or "Heap Fetches" in line:
            scans.append("    " + line.strip())
    triggers = {
        t["Trigger Name"]: round(t["Time"], 3) for t in plan.get("Triggers", [])
    }
    return {
        "ms": round(plan["Execution Time"], 3),
        "planning_ms": round(plan.get("Planning Time", 0), 3),
        "hit": top.get("Shared Hit Blocks", 0),
        "read": top.get("Shared Read Blocks", 0),
        "dirtied": top.get("Shared Dirtied Blocks", 0),
        "triggers": triggers,
        "scans": scans,
    }


def batch(client, size, redis_calls, user, number) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    spy = Statements(pid)
    cpu_ms, wall_ms = [], []
    sent, read = redis_calls.sent, redis_calls.read
    backend_before = backend_cpu_ms(pid)
    timed = size - PROFILED
    with connection.execute_wrapper(spy):
        for _ in range(timed):
            cpu, wall = time.process_time(), time.perf_counter()
            portal_post(client)
            cpu_ms.append((time.process_time() - cpu) * 1000)
            wall_ms.append((time.perf_counter() - wall) * 1000)
    backend = (backend_cpu_ms(pid) - backend_before) / timed
    redis_sent = (redis_calls.sent - sent) / timed
    redis_read = (redis_calls.read - read) / timed
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(PROFILED):
        portal_post(client)
    profiler.disable()
    calls = pstats.Stats(profiler).total_calls / PROFILED
    statements = {
        key: {
            "cpu_ms": round(spy.cpu[key] / timed, 3),
            "wall_ms": round(spy.wall[key] / timed, 3),
        }
        for key in sorted(spy.cpu, key=lambda k: -spy.cpu[k])
    }
    explained = {key: explain(*spy.last[key]) for key in statements if key in spy.last}
    slowest = sorted(wall_ms)[-3:]
    return {
        "batch": number,
        "filings_so_far": number * size,
        "process_cpu_ms": {
            "median": round(statistics.median(cpu_ms), 3),
            "mean": round(statistics.mean(cpu_ms), 3),
        },
        "wall_ms": {
            "median": round(statistics.median(wall_ms), 3),
            "mean": round(statistics.mean(wall_ms), 3),
            "slowest": [round(ms, 1) for ms in slowest],
        },
        "backend_cpu_ms": round(backend, 3),
        "python_calls": round(calls),
        "redis": {"sent": round(redis_sent, 2), "read": round(redis_read, 2)},
        "statements": statements,
        "explain": explained,
        **outbox_and_deflection(user),
        **redis_keys(),
        "tables": table_state(),
        "indexes": index_state(),
    }


def show(result) -> None:
    print(
        f"batch {result['batch']} ({result['filings_so_far']} filed): process CPU "
        f"median {result['process_cpu_ms']['median']} mean "
        f"{result['process_cpu_ms']['mean']} ms; wall median "
        f"{result['wall_ms']['median']} mean {result['wall_ms']['mean']} slowest "
        f"{result['wall_ms']['slowest']}; backend CPU {result['backend_cpu_ms']} ms; "
        f"{result['python_calls']:,} calls; Redis {result['redis']['sent']} sent / "
        f"{result['redis']['read']} read; outbox pending {result['pending_outbox']}, "
        f"filer's deflection rows {result['filer_deflection_rows']}, filer's tickets "
        f"{result['filer_tickets']}, Redis keys {result.get('redis_keys')}, jobs "
        f"queued {result.get('jobs_queued')}",
        flush=True,
    )
    for key, figures in result["statements"].items():
        plan = result["explain"].get(key, {})
        print(
            f"    {figures['cpu_ms']:.3f} ms CPU {figures['wall_ms']:.3f} ms wall  {key}"
        )
        if "error" in plan:
            print(f"        EXPLAIN: {plan['error']}")
        elif plan:
            print(
                f"        EXPLAIN: {plan['ms']} ms (planning {plan['planning_ms']}), "
                f"buffers hit {plan['hit']} read {plan['read']} dirtied "
                f"{plan['dirtied']}; triggers {plan['triggers']}"
            )
            for scan in plan["scans"]:
                print(f"          {scan}")
    for name, figures in sorted(result["tables"].items()):
        print(f"    table {name}: {figures}")
    for name, figures in sorted(result["indexes"].items()):
        print(f"    index {name}: {figures}")


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    batches = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    user = prepare.filer()
    redis_calls = RedisCalls()
    client = Client()
    client.force_login(user)
    for _ in range(10):  # the process's kept statements and defaults
        portal_post(client)
    results = []
    try:
        print(f"before: {outbox_and_deflection(user)} {redis_keys()}", flush=True)
        for number in range(1, batches + 1):
            result = batch(client, size, redis_calls, user, number)
            show(result)
            results.append(result)
    finally:
        if os.environ.get("JSON"):
            Path(os.environ["JSON"]).write_text(json.dumps(results, indent=1))
        if not os.environ.get("KEEP"):
            prepare.remove_earlier_filings()


if __name__ == "__main__":
    main()
