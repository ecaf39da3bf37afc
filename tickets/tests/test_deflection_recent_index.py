"""The session's recent deflection found by a partial index (migration tickets 0024,
bench FINDINGS F-6): a customer's filed rows, one a filing, are never read by the
look every later filing makes; the answer is the same with the index and without it."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tickets import deflection
from tickets.models import DeflectionEvent

from .factories import TicketFactory

pytestmark = pytest.mark.django_db

INDEX = "deflection_recent_idx"


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (the plan)")


def _event(user, *, session_key="s1", outcome="deflected", ticket=None, ago=None):
    event = DeflectionEvent.objects.create(
        token=uuid.uuid4(),
        user=user,
        session_key=session_key,
        outcome=outcome,
        ticket=ticket,
    )
    if ago is not None:
        DeflectionEvent.objects.filter(pk=event.pk).update(
            updated_at=timezone.now() - ago
        )
    return event.token


@pytest.fixture
def busy_filer(alice, bob, queue):
    """alice filed 40 times in session s1 (a ``filed`` row each, half of them with
    their ticket deleted since: no ticket, as ``SET_NULL`` leaves them); one visit of
    hers was answered by an article in s1, one in s2, one too long ago; one deflected
    row has a ticket (filed later by the beacon's order); bob deflected in s1."""
    for n in range(40):
        ticket = TicketFactory(requester=alice, queue=queue) if n % 2 else None
        _event(alice, outcome="filed", ticket=ticket)
    _event(alice, ago=timedelta(hours=2))
    expected = _event(alice, ago=timedelta(minutes=5))
    _event(alice, session_key="s2")
    _event(alice, ticket=TicketFactory(requester=alice, queue=queue))
    _event(bob)
    return expected


def _statement(user, session_key="s1"):
    return deflection._RECENT_DEFLECTION.statement(
        "default",
        user=user.pk,
        session_key=session_key,
        since=timezone.now() - deflection.COME_BACK_WINDOW,
    )


def _explained(user, session_key="s1") -> dict:
    sql, params = _statement(user, session_key)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        (plan,) = cursor.fetchone()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return plan[0]["Plan"]


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _read(plan) -> tuple[set, int]:
    """The indexes the plan read and the rows its scans read and dropped."""
    indexes, dropped = set(), 0
    for node in _nodes(plan):
        if "Index Name" in node:
            indexes.add(node["Index Name"])
        dropped += node.get("Rows Removed by Filter", 0)
        dropped += node.get("Rows Removed by Index Recheck", 0)
    return indexes, dropped


def test_the_index_holds_only_what_the_look_can_find(alice, busy_filer):
    """Both databases: a partial index; of alice's 45 rows it holds the three
    deflections without a ticket (and bob's)."""
    constraints = connection.introspection.get_constraints(
        connection.cursor(), DeflectionEvent._meta.db_table
    )
    assert constraints[INDEX]["columns"] == ["user_id", "session_key", "updated_at"]
    assert constraints[INDEX]["index"] is True
    held = DeflectionEvent.objects.filter(
        outcome="deflected", ticket__isnull=True
    ).count()
    assert (held, DeflectionEvent.objects.count()) == (4, 45)


def test_the_look_reads_no_filed_row(postgresql, alice, busy_filer):
    with transaction.atomic():
        plan = _explained(alice)
    indexes, dropped = _read(plan)
    assert indexes == {INDEX}
    assert dropped == 0  # the 41 filed rows and the deflection with a ticket unread
    assert plan["Actual Rows"] == 1


def test_without_the_index_the_look_reads_every_row_of_the_customer(
    postgresql, alice, busy_filer
):
    """The twin: the index dropped (rolled back), the look's plan is the foreign
    key's and drops alice's other rows one by one (what every filing paid)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {INDEX}")
        plan = _explained(alice)
        transaction.set_rollback(True)
    indexes, dropped = _read(plan)
    assert INDEX not in indexes
    assert dropped >= 40


@pytest.mark.parametrize("session_key", ["s1", "s2", "s3"])
def test_the_answer_is_the_same_with_and_without_the_index(
    alice, bob, busy_filer, session_key
):
    found = {
        user.pk: deflection._recent_deflection_token(
            deflection._values(user, session_key, "", 0, "")
        )
        for user in (alice, bob)
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {INDEX}")
        without = {
            user.pk: deflection._recent_deflection_token(
                deflection._values(user, session_key, "", 0, "")
            )
            for user in (alice, bob)
        }
        transaction.set_rollback(True)
    assert found == without
    if session_key == "s1":
        assert found[alice.pk] == busy_filer
        assert found[bob.pk] is not None
    elif session_key == "s2":
        assert found[alice.pk] is not None and found[bob.pk] is None
    else:
        assert found == {alice.pk: None, bob.pk: None}


def _explained_generic(sql, params) -> dict:
    """The plan of ``sql`` prepared on the server with its values as parameters and a
    generic plan, as ``portal.prepared`` runs the filing's statement after five runs."""
    numbered = sql
    for n in range(1, len(params) + 1):
        numbered = numbered.replace("%s", f"${n}", 1)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"PREPARE look AS {numbered}")
        try:
            marks = ", ".join(["%s"] * len(params))
            cursor.execute(
                f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE look({marks})", params
            )
            (plan,) = cursor.fetchone()
        finally:
            cursor.execute("DEALLOCATE look")
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return plan[0]["Plan"]


def outcome_as_a_value(sql: str, params: list) -> tuple[str, list]:
    """The look's statement as before F-19: the outcome a value, not in the text (the
    twins here and in ``test_prepared_generic_plans``)."""
    literal = "('deflected')"
    assert sql.count(literal) == 1
    before, after = sql.split(literal)
    at = before.count("%s")
    return before + "%s" + after, [*params[:at], "deflected", *params[at:]]


def test_the_look_prepared_with_a_generic_plan_reads_no_filed_row(
    postgresql, alice, busy_filer
):
    """F-19: the outcome is in the statement's text, so the generic plan of the
    prepared filing statement can prove the partial index's condition."""
    sql, params = _statement(alice)
    assert "%s" not in sql.split("WHERE", 1)[1].split("AND", 1)[0]  # the outcome
    with transaction.atomic():
        plan = _explained_generic(sql, params)
    indexes, dropped = _read(plan)
    assert indexes == {INDEX}
    assert dropped == 0
    assert plan["Actual Rows"] == 1


def test_with_the_outcome_as_a_value_the_generic_plan_reads_the_filed_rows(
    postgresql, alice, busy_filer
):
    """The twin: the outcome passed as a value (as before F-19) leaves the generic
    plan without the partial index; it drops alice's filed rows without a ticket."""
    with transaction.atomic():
        plan = _explained_generic(*outcome_as_a_value(*_statement(alice)))
    indexes, dropped = _read(plan)
    assert INDEX not in indexes
    assert dropped >= 20
