"""Same rows, same pages: the oracle of bench FINDINGS F-16 (statements prepared on
the server). Run with each tree against its own identical copy of a bench set (two
``createdb -T`` copies made one after the other), then compare the two outputs::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_2_oa \\
    REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python bench/filing_rows_oracle.py \\
        OUT_DIR [N]

Files N tickets through the portal form and N through GraphQL's ``createTicket``
(``bench/filing_cpu.py``'s requests, the connection kept as in production), then
writes to OUT_DIR: every row the filings wrote (tickets, events, user and group
grants, outbox rows, deflection events, tallies), with the columns that hold the
moment of writing or a random token left out; and the HTML of the filer's portal
list, of the first filed ticket's page and of the form, what changes from request to
request taken out (the CSRF token, the CSP nonce, the form's deflection token, the
moments of writing). The filed tickets stay (the copy is for this only)."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.filing_cpu import graphql_post, portal_post  # noqa: E402

# isort: split

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench import prepare  # noqa: E402

#: table: (columns left out, order)
TABLES = {
    "tickets_ticket": (
        "created_at,updated_at,first_response_due_at,resolution_due_at",
        "id",
    ),
    "tickets_ticketevent": ("created_at", "id"),
    "tickets_ticketuserobjectpermission": ("", "id"),
    "tickets_ticketgroupobjectpermission": ("", "id"),
    "notifications_sentnotification": (
        "created_at,next_attempt_at",
        "id",
    ),
}
_VOLATILE = re.compile(
    rb'(csrfmiddlewaretoken" value="|nonce="|csrf-token" content="'
    rb'|name="deflection_token" value="|datetime="|title="\d\d \w+ \d{4} )[^"]*'
)


def _columns(table: str, left_out: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
        names = [name for (name,) in cursor.fetchall()]
    return [name for name in names if name not in left_out.split(",")]


def _highest(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608
        return cursor.fetchone()[0]


def main() -> None:
    out = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    out.mkdir(parents=True, exist_ok=True)
    before = {table: _highest(table) for table in TABLES}
    user = prepare.filer()
    token = prepare.token_for(user, "read,write")
    portal = Client()
    portal.force_login(user)
    api = Client()
    for _ in range(n):
        portal_post(portal)
        graphql_post(api, token)
    with (out / "rows.txt").open("w") as rows:
        for table, (left_out, order) in TABLES.items():
            columns = _columns(table, left_out)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {', '.join(columns)} FROM {table} "  # noqa: S608
                    f"WHERE id > %s ORDER BY {order}",
                    [before[table]],
                )
                found = cursor.fetchall()
            rows.write(f"== {table} {columns} {len(found)} rows\n")
            for row in found:
                rows.write(f"{row!r}\n")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reference FROM tickets_ticket WHERE id > %s ORDER BY id LIMIT 1",
            [before["tickets_ticket"]],
        )
        (reference,) = cursor.fetchone()
    pages = {
        "list": "/portal/tickets/",
        "ticket": f"/portal/tickets/{reference}/",
        "form": "/portal/tickets/new/",
    }
    for name, path in pages.items():
        response = portal.get(path)
        body = _VOLATILE.sub(rb"\1-", response.content)
        (out / f"{name}.html").write_bytes(f"{response.status_code}\n".encode() + body)


if __name__ == "__main__":
    main()
