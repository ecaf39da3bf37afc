"""The permission matrix (``permission_matrix.MATRIX``: caller × action × expected),
executed on all four surfaces: services, portal HTML, desk HTML and GraphQL.

Every cell checks the outcome and the twin of it: an allowed action took effect (or the
read showed what it reads); a hidden one answered exactly as for a ticket that does not
exist and changed nothing; a refused one answered differently from a missing ticket
(the caller sees it) and changed nothing. A policy action, a desk action, a portal view
or a GraphQL mutation added without its row in the table fails the coverage tests.
"""

import pytest

from tickets import permissions
from tickets.desk import views as desk_views

from . import permission_matrix as pm

CELLS = [
    (surface, action, caller)
    for surface in pm.SURFACES
    for action in pm.ALLOWED
    if (surface, action) not in pm.ABSENT
    for caller in pm.CALLERS
]


@pytest.fixture
def world(db):
    return pm.build_world()


@pytest.mark.parametrize(("surface", "action", "caller"), CELLS)
def test_cell(world, surface, action, caller):
    run = pm.SURFACES[surface]
    user = pm.caller_user(world, caller)
    pm.prepare(world, action)
    ticket = world["ticket"]
    before = pm.snapshot(ticket)

    signature, shown = run(action, user, world, ticket.reference)
    after = pm.snapshot(ticket)
    outcome = pm.expected(surface, caller, action)

    if action in pm.READS:
        assert after == before
        done = shown
    else:
        done = pm.took_effect(action, before, after, world, user)
    if outcome == pm.ALLOW:
        assert done, (signature, before, after)
        return
    assert not done, signature
    assert after == before
    missing, _ = run(action, user, world, pm.MISSING_REFERENCE)
    if outcome == pm.HIDDEN:
        assert signature == missing, "a hidden ticket must answer like a missing one"
    else:
        assert signature != missing, "a refusal must not pretend the ticket is missing"
        assert "not found" not in str(signature).lower()


# --- the table covers every action and every surface ---------------------------------


def test_every_policy_action_has_rows():
    assert set(pm.POLICY_ROWS) == set(permissions.ACTIONS)
    rows = set().union(*pm.POLICY_ROWS.values())
    assert rows == set(pm.ALLOWED)


def test_every_status_action_has_rows():
    """A new ``tickets.actions`` action needs its row (named after it)."""
    from tickets import actions

    assert set(actions.REGISTRY) == set(pm.STATUS_TARGETS)
    for name, action in actions.REGISTRY.items():
        assert action.target in (None, pm.STATUS_TARGETS[name])


def test_every_cell_is_in_the_table():
    assert set(pm.MATRIX) == {(c, a) for c in pm.CALLERS for a in pm.ALLOWED}
    assert set(pm.ABSENT) <= {(s, a) for s in pm.SURFACES for a in pm.ALLOWED}
    for surface, action in pm.ABSENT:
        assert pm.ABSENT[surface, action].strip(), (surface, action)


def test_every_desk_action_is_a_row():
    """A new ``/admin/helpdesk/tickets/<ref>/<action>/`` needs its row."""
    slugs = {
        "comment": {"reply", "add_internal_note"},
        "status": {
            "change_status",
            "resolve",
            "reject",
            "close",
            "reopen",
            "withdraw",
        },
        "assign": {"assign"},
        "priority": {"change_priority"},
        "queue": {"move_queue"},
        "tags": {"set_tags"},
        "watch": {"watch"},
        "merge": {"merge"},
        "time": {"log_time"},
    }
    assert set(desk_views.ACTIONS) == set(slugs)
    for rows in slugs.values():
        assert all(("desk", row) not in pm.ABSENT for row in rows)


def test_every_portal_ticket_view_is_a_row():
    """A new portal URL under ``tickets/<reference>/`` needs its row."""
    from tickets.urls import urlpatterns

    names = {
        p.name
        for p in urlpatterns
        if "<str:reference>" in str(p.pattern) or "attachments" in str(p.pattern)
    }
    covered = {
        "portal_ticket": {"view", "see_internal_note"},
        "portal_reply": {"reply"},
        "portal_status": {"close", "reopen", "withdraw"},
        "portal_rate": {"rate"},
        "attachment_download": {"download_attachment"},
    }
    assert names == set(covered)
    for rows in covered.values():
        assert all(("portal", row) not in pm.ABSENT for row in rows)


def test_every_graphql_mutation_is_a_row():
    """A new mutation on tickets needs its row (``createTicket`` is filing, not an
    action on an existing ticket: ``tickets.permissions.why_not_file``)."""
    from graphql_api.schema import schema

    mutations = set(schema._schema.mutation_type.fields)
    ticket_mutations = {
        name for name in mutations if "icket" in name or name == "addComment"
    }
    assert ticket_mutations - {"createTicket"} == {
        name for name, _, _ in pm.GQL_MUTATIONS.values()
    }
    for action in pm.GQL_MUTATIONS:
        assert ("graphql", action) not in pm.ABSENT
