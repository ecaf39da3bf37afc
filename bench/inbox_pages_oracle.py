"""Whole inbox pages for before/after comparisons (bench FINDINGS S-11): every page of
``PAGES`` for every user of ``USERS``, at one frozen moment (the SLA cells' "Due in …"
do not move between runs), the CSRF token masked, written as one file; run it with
each tree on the same copy of ``bench_full`` and ``cmp`` the files.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_2_bench \\
    REDIS_URL=redis://127.0.0.1:6379/6 \\
    .venv/bin/python bench/inbox_pages_oracle.py setup     # once per copy
    ... bench/inbox_pages_oracle.py pages > main.txt        # with each tree

``setup`` writes to the copy: the supervisor (``bench.prepare``), a viewer, agent12
in Russian (Europe/Moscow) and agent23 in Polish (Europe/Warsaw). ``pages`` reads
only (each page twice: built, then from whatever the first left kept;
``ORACLE_ROUNDS=1``: once).
"""

import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import in_process_environment  # noqa: E402

in_process_environment()

import portal.wsgi  # noqa: E402, F401 - the server's start-up

# isort: split

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

INBOX = "/admin/helpdesk/tickets/"
NOW = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
USERS = [
    "agent0@load.example",
    "agent7@load.example",
    "agent41@load.example",
    "supervisor@load.example",
    "s11-viewer@load.example",
    "agent12@load.example",  # ru
    "agent23@load.example",  # pl
]
TEXTS = [
    "webhook",  # many hits
    "kraken",  # none
    "customer",  # notes and replies
    "webhook -token",
    "<b>invoice</b>",
    "поддержка",
    "50%_off",
    "HD-000212",
]
VIEWS = ["", "open", "queues", "all", "mine", "unassigned"]
PAGES = [
    *({"view": view} for view in VIEWS),
    *({"q": text} for text in TEXTS),
    *({"q": text, "view": view} for text in TEXTS[:3] for view in VIEWS[2:]),
    {"q": "webhook", "page": "2"},
    {"q": "webhook", "view": "all", "page": "3", "per_page": "50"},
    {"view": "all", "page": "2"},
    *({"q": "webhook", "order": order} for order in ("subject", "-updated", "due")),
    *({"view": "queues", "order": order} for order in ("-priority", "requester")),
    {"q": "webhook", "status": "open"},
    {"assignee": "none", "view": "all"},
    {"assignee": "x2", "q": "webhook"},  # a filter with its error
    {"organization": "Load Org 1", "view": "all"},
    {"tag": "vip", "q": "customer"},
    {"q": "webhook", "order": "bogus", "page": "999"},
]
ROUNDS = int(os.environ.get("ORACLE_ROUNDS", "2"))
# ``ORACLE_PAGES=short``: fewer pages (the 250k copy under load), the same kinds
SHORT_PAGES = [
    *({"view": view} for view in VIEWS),
    *({"q": text} for text in TEXTS[:4]),
    {"q": "customer", "view": "unassigned"},
    {"q": "webhook", "page": "2"},
    {"q": "webhook", "order": "subject"},
    {"view": "queues", "order": "-priority"},
    {"assignee": "x2", "q": "webhook"},
]
if os.environ.get("ORACLE_PAGES") == "short":
    PAGES = SHORT_PAGES
_CSRF = re.compile(r'(name="csrfmiddlewaretoken" value="|"CSRF_TOKEN": ")[^"]+')


def setup() -> None:
    from django.contrib.auth.models import Group
    from wagtail.users.models import UserProfile

    from accounts import roles
    from bench.prepare import supervisor

    supervisor()
    User = get_user_model()  # noqa: N806
    viewer = User.objects.filter(email=USERS[4]).first()
    if viewer is None:
        viewer = User.objects.create_user(USERS[4], is_staff=True)
    viewer.groups.add(Group.objects.get_or_create(name=roles.VIEWERS)[0])
    for email, language, zone in (
        ("agent12@load.example", "ru", "Europe/Moscow"),
        ("agent23@load.example", "pl", "Europe/Warsaw"),
    ):
        user = User.objects.filter(email=email).first()
        if user is None:  # the reduced set has 20 agents
            continue
        profile = UserProfile.get_for_user(user)
        profile.preferred_language, profile.current_time_zone = language, zone
        profile.save()


def pages(out) -> None:
    from django.core.cache import cache

    if os.environ.get("ORACLE_CLEAR", "1") == "1":
        cache.clear()  # this copy's Redis database: every run starts cold
    User = get_user_model()  # noqa: N806
    statements = 0
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        for email in USERS:
            user = User.objects.filter(email=email).first()
            if user is None:  # the reduced set has 20 agents
                continue
            client = Client()
            client.force_login(user)
            for params in PAGES:
                for round_ in range(1, ROUNDS + 1):
                    with CaptureQueriesContext(connection) as captured:
                        response = client.get(INBOX, params)
                    statements += len(captured)
                    body = _CSRF.sub(r"\1-", response.content.decode())
                    out.write(
                        f"=== {email} {params} round {round_}: "
                        f"{response.status_code}, {len(captured)} statements\n"
                    )
                    out.write(body + "\n")
    print(
        f"{len(USERS) * len(PAGES) * ROUNDS} pages, {statements} statements",
        file=sys.stderr,
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["setup"]:
        setup()
    else:
        pages(sys.stdout)
