"""CPU of building and flattening a filing's eleven notification emails, in-process.

Not part of the suite: no database, no rendering, no sending; only what a backend
does with each email (``message().as_bytes()``). Compares ``sending.Email`` with
Django's ``EmailMultiAlternatives`` plus ``mime.prepare`` (the path before
``mime.Building``), alternated, ``time.process_time``:

    .venv/bin/python manage.py shell < bench/email_build_cpu.py
"""

import cProfile
import pstats
import statistics
import time

from django.core.mail import EmailMultiAlternatives

from portal.notifications import mime, sending, threads


class Old(EmailMultiAlternatives):
    def message(self):
        return mime.prepare(super().message())


headers = threads.headers("HD-000042", reply_to="support@example.com")
NAMES = [(f"Agent {n}", "pl" if n % 3 == 0 else "en") for n in range(11)]


def build(cls):
    out = []
    for name, lang in NAMES:
        subj = (
            "[HD-000042] Nowe zgłoszenie: Printer is on fire"
            if lang == "pl"
            else "[HD-000042] New ticket: Printer is on fire"
        )
        body = (
            (f"Dzień dobry {name},\n" if lang == "pl" else f"Hello {name},\n")
            + "Help!\n" * 5
            + "https://example.com/admin/tickets/42/\n"
        )
        e = cls(
            subject=subj,
            body=body,
            to=[f"agent{name[-1]}@example.com"],
            headers=dict(
                headers, **{"Message-ID": threads.headers("HD-000042")["Message-ID"]}
            ),
        )
        e.attach_alternative(
            "<html><body><p>" + body.replace("\n", "<br>") + "</p></body></html>",
            "text/html",
        )
        out.append(e.message().as_bytes())
    return out


for cls in (Old, sending.Email):
    build(cls)
res = {"Old": [], "Email": []}
for rnd in range(6):
    for cls in (Old, sending.Email) if rnd % 2 == 0 else (sending.Email, Old):
        t = time.process_time()
        for _ in range(50):
            build(cls)
        res[cls.__name__].append((time.process_time() - t) * 1000 / 50)
for k, v in res.items():
    print(
        k,
        "ms per 11 emails",
        [round(x, 2) for x in v],
        "median",
        round(statistics.median(v), 2),
    )
for cls in (Old, sending.Email):
    p = cProfile.Profile()
    p.enable()
    build(cls)
    p.disable()
    print(cls.__name__, "calls per 11 emails", pstats.Stats(p).total_calls)
