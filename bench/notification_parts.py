"""The job worker's Python calls per filed ticket, by part, in-process on a bench copy.

Not part of the suite. Files tickets through ``tickets.services.create_ticket`` as the
bench's filer (``bench/prepare.py``) with the server's settings (``bench/run.py``'s
``child_env``), keeps the wake-up job from being queued, and delivers each filing's
outbox rows as the job does (``sending.deliver(keys)``), counting the Python calls
(``sys.setprofile``: deterministic, unlike times on a shared machine) by the part of
the delivery they are made in: the claim, the shared renderings, building and sending
the messages, the outcomes' UPDATEs; and the statements per filing (with the
health check that the worker's connection gets before each job):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<copy> REDIS_URL=redis://127.0.0.1:6379/<n> \
        .venv/bin/python bench/notification_parts.py

``DETAIL=<n>`` also prints the ``n`` functions called most in each part;
``RECORD_WITHIN=<seconds>`` sets ``sending.RECORD_WITHIN`` (N-9).
"""

import functools
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import in_process_environment  # noqa: E402

FILINGS = 25
WARM = 5


def main():
    in_process_environment()
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.production"
    import django

    django.setup()
    from django.core.mail import EmailMessage
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.prepare import filer
    from portal.notifications import batch, dispatch, sending
    from portal.notifications.models import SentNotification
    from tickets import services

    dispatch.enqueue = lambda *args, **kwargs: None  # delivered below instead
    if os.environ.get("RECORD_WITHIN") and hasattr(sending, "RECORD_WITHIN"):
        # N-9: outcomes of emails sent within this many seconds share one UPDATE; the
        # profiler slows sending several times, so the default window closes sooner
        # here than in the worker: a large one counts the one-UPDATE case exactly.
        sending.RECORD_WITHIN = float(os.environ["RECORD_WITHIN"])
    counts, statements, stack = Counter(), [], ["other"]
    detail = int(os.environ.get("DETAIL", "0"))
    functions = Counter()

    def part(owner, name, label):
        original = getattr(owner, name)

        @functools.wraps(original)
        def inner(*args, **kwargs):
            stack.append(label)
            try:
                return original(*args, **kwargs)
            finally:
                stack.pop()

        setattr(owner, name, inner)

    part(sending, "_claim", "claim")
    part(batch.Batch, "render", "shared renderings")
    if hasattr(sending, "_rendered"):  # skeletons (N-5): the renderings too
        part(sending, "_rendered", "shared renderings")
    part(EmailMessage, "send", "message, flattening, backend")
    part(sending, "_record", "outcome UPDATEs")
    if hasattr(sending, "_record_together"):  # N-9: several outcomes in one UPDATE
        part(sending, "_record_together", "outcome UPDATEs")

    def count(frame, event, arg):
        if event in ("call", "c_call"):
            counts[stack[-1]] += 1
            if detail:
                if event == "c_call":
                    name = getattr(arg, "__qualname__", repr(arg))
                else:
                    code = frame.f_code
                    name = f"{Path(code.co_filename).name}:{code.co_name}"
                functions[stack[-1], name] += 1

    # As the django-q2 worker does before each job (``close_old_django_connections``):
    # a kept connection (``DB_CONN_MAX_AGE``) is due a health check at its next use,
    # a ``SELECT 1`` that Django runs on psycopg's connection itself (not logged):
    # counted here with the logged statements.
    checks = []
    is_usable = connection.is_usable

    def counted_check():
        checks.append(True)
        return is_usable()

    connection.is_usable = counted_check
    user = filer()
    for n in range(FILINGS):
        last = SentNotification.objects.order_by("-pk").values_list("pk", flat=True)
        last = last[0] if last else 0
        services.create_ticket(
            user, subject=f"Parts {n}", description="Created by the benchmark harness."
        )
        keys = list(
            SentNotification.objects.filter(pk__gt=last).values_list(
                "idempotency_key", flat=True
            )
        )
        stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115
        connection.close_if_unusable_or_obsolete()  # what the worker does
        del checks[:]
        try:
            with CaptureQueriesContext(connection) as queries:
                if n >= WARM:
                    sys.setprofile(count)
                outcomes = sending.deliver(keys)
                sys.setprofile(None)
        finally:
            sys.stdout.close()
            sys.stdout = stdout
        statements.append(len(queries) + len(checks))
        assert set(outcomes.values()) == {"sent"}, outcomes
    total = sum(counts.values())
    runs = FILINGS - WARM
    print(
        f"{len(keys)} emails per filing, {statements[-1]} statements per filing "
        "(logged, and the health check before each job; over the measured filings: "
        f"{dict(sorted(Counter(statements[WARM:]).items()))})"
    )
    for name, calls in counts.most_common():
        print(f"  {name}: {calls / runs:.0f} calls ({100 * calls / total:.0f} %)")
    print(f"Python calls per filing: {total / runs:.0f}")
    for name, _ in counts.most_common() if detail else ():
        print(f"\n{name}:")
        found = [(f, c) for (p, f), c in functions.items() if p == name]
        for function, calls in sorted(found, key=lambda item: -item[1])[:detail]:
            print(f"  {calls / runs:7.1f}  {function}")


if __name__ == "__main__":
    main()
