"""The job worker's CPU per filed ticket, measured on a real django-q2 cluster.

Not part of the suite and not the wrk harness: run it by hand against a copy of
``bench_full`` (never the original) and a Redis database of your own:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<copy> REDIS_URL=redis://127.0.0.1:6379/<n> \
        .venv/bin/python bench/job_worker_cpu.py [--tickets 200] [--noop]

It starts ``manage.py qcluster`` with ``bench/run.py``'s environment, waits until it is
idle, stops it (SIGSTOP), files ``--tickets`` tickets in this process through
``tickets.services.create_ticket`` as the bench's filer (so their wake-up jobs queue
up in Redis), then lets the cluster run until the queue is empty and every outbox row
of those tickets is done. Reported: the CPU time (user + system) of the cluster's
processes and of the PostgreSQL backends serving them during the drain, minus what
the same processes use idle over the same time, per ticket; and the jobs queued per
ticket. ``--noop`` queues the same number of jobs for a function that does nothing
with the same arguments (``builtins.len``): django-q2's own cost per job.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import child_env  # noqa: E402

QUEUE_KEY = "django_q:portal:q"


TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    """(parent pid, CPU seconds) of ``pid`` from /proc, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def tree(pid):
    """``pid`` and its descendants."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat:
                parents[int(entry)] = stat[0]
    result, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        result += frontier
    return result


def backends(database):
    """PostgreSQL backend processes connected to ``database``, other than ours."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s "
            "AND pid <> pg_backend_pid()",
            [database],
        )
        return [row[0] for row in cursor.fetchall()]


def cpu(processes) -> dict:
    """CPU seconds (user + system) by process id."""
    result = {}
    for pid in processes:
        stat = _stat(pid)
        if stat:
            result[pid] = stat[1]
    return result


def used(before: dict, after: dict) -> float:
    """CPU between two readings; a process that appeared meanwhile counts whole."""
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--noop", action="store_true")
    parser.add_argument("--idle", type=float, default=6.0)
    args = parser.parse_args()
    database = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    env = child_env(database)
    env["REDIS_URL"] = os.environ["REDIS_URL"]
    env.pop("BENCH_COUNT_QUERIES", None)
    os.environ.update({k: env[k] for k in env if k not in ("PATH",)})
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.production"
    import django

    django.setup()
    from django_q.signals import pre_enqueue

    from bench.prepare import filer
    from portal.jobs import broker, enqueue
    from portal.notifications.models import SentNotification
    from tickets import services

    queued = []
    # counted as queued: the stopped cluster's BLPOP may already hold the first one
    pre_enqueue.connect(
        lambda sender, task, **kw: queued.append(task["id"]), weak=False
    )
    queue = broker()
    queue.connection.delete(QUEUE_KEY)
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(8)  # started and idle
        idle_start = cpu(tree(cluster.pid) + backends(database))
        time.sleep(args.idle)
        idle_end = cpu(tree(cluster.pid) + backends(database))
        idle_rate = used(idle_start, idle_end) / args.idle
        os.killpg(cluster.pid, signal.SIGSTOP)
        user = filer()
        first = SentNotification.objects.order_by("-pk").values_list("pk", flat=True)
        first = first[0] if first else 0
        for n in range(args.tickets):
            if args.noop:
                keys = [f"noop:{n}:{i}" for i in range(11)]
                enqueue("builtins.len", keys)
            else:
                services.create_ticket(
                    user,
                    subject=f"Job worker CPU {n}",
                    description="Created by the benchmark harness.",
                )
        jobs = len(queued)
        start_cpu, start = cpu(tree(cluster.pid) + backends(database)), time.monotonic()
        os.killpg(cluster.pid, signal.SIGCONT)
        pending = SentNotification.objects.filter(
            pk__gt=first, status=SentNotification.Status.PENDING
        )
        while queue.connection.llen(QUEUE_KEY) or pending.exists():
            time.sleep(0.05)
        time.sleep(1.0)  # the last result saved by the monitor
        cluster_pids = tree(cluster.pid)
        end_cpu = cpu(cluster_pids + backends(database))
        spent = used(start_cpu, end_cpu)
        in_database = used(
            start_cpu, {pid: v for pid, v in end_cpu.items() if pid not in cluster_pids}
        )
        elapsed = time.monotonic() - start
        if os.environ.get("BY_PROCESS"):
            for pid in cluster_pids:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    title = handle.read().replace(b"\0", b" ").decode()[:60]
                delta = end_cpu.get(pid, 0.0) - start_cpu.get(pid, 0.0)
                print(f"  {pid} {title}: {delta:.2f} s")
        net = spent - idle_rate * elapsed
        emails = SentNotification.objects.filter(pk__gt=first).count()
        print(
            f"{'no-op jobs' if args.noop else 'tickets'}: {args.tickets}, jobs queued "
            f"{jobs} ({jobs / args.tickets:.2f} per ticket), emails {emails}; drained in "
            f"{elapsed:.1f} s; cluster + its database backends CPU {spent:.2f} s "
            f"(of which the database {in_database:.2f} s; idle {idle_rate * 1000:.0f} ms/s) -> {net * 1000 / args.tickets:.1f} ms "
            f"per {'job' if args.noop else 'ticket'}"
        )
    finally:
        try:
            os.killpg(cluster.pid, signal.SIGCONT)
            os.killpg(cluster.pid, signal.SIGTERM)
            cluster.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(cluster.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
