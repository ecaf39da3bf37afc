"""Priority order has one owner (``tickets.models.Priority``: ``order_expression`` /
``Ticket.objects.with_priority_rank``). Sorting by the stored string puts critical,
high, low, medium; this guard fails when code or a template sorts by it again. Each
surface's actual order is tested where it lives: the desk inbox, the portal list and
the Django admin in ``tickets/tests/test_priority_order.py``, GraphQL's
``tickets(ordering: {field: PRIORITY})`` in ``graphql_api/tests/test_priority_order.py``.
The reports and their CSV export group by queue, agent or organization and never order
by priority (no priority dimension), so there is nothing to order there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["portal", "accounts", "tickets", "kb", "email_channel", "graphql_api"]
RAW_SORT = re.compile(
    r"""order_by\([^)]*["']-?(\w+__)*priority["']"""
    r"""|ordering\s*=.*["']-?priority["']"""
    r"""|dictsort(reversed)?:["']priority"""
    r"""|sort(ed)?\(.*key=.*["']priority["']"""
)


def raw_priority_sorts(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if RAW_SORT.search(line)]


def test_nothing_sorts_by_the_stored_priority_string():
    offenders = {}
    paths = [ROOT / "templates"] + [ROOT / p for p in PACKAGES]
    for top in paths:
        for path in sorted(top.rglob("*")):
            if path.suffix not in (".py", ".html") or "/tests/" in path.as_posix():
                continue
            if found := raw_priority_sorts(path.read_text()):
                offenders[path.relative_to(ROOT).as_posix()] = found
    assert offenders == {}


def test_the_guard_sees_a_raw_priority_sort():
    assert raw_priority_sorts('qs.order_by("-priority", "pk")') == [
        'qs.order_by("-priority", "pk")'
    ]
    assert raw_priority_sorts("rows.order_by('ticket__priority')") != []
    assert raw_priority_sorts('ordering = ["priority"]') != []
    assert raw_priority_sorts('{% for t in rows|dictsort:"priority" %}') != []
    assert raw_priority_sorts('sorted(rows, key=itemgetter("priority"))') != []
    assert raw_priority_sorts('qs.order_by("-priority_rank")') == []
    assert raw_priority_sorts("qs.alias(rank=Priority.order_expression())") == []
