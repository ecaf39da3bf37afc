"""The visibility condition's kept subqueries (``portal.sql.KeptSubquery``) give the
same answer whatever query they are first compiled in: a top-level ticket list, or a
ticket list nested in another query (an organization's ``Exists``), then the other."""

import pytest
from django.db.models import Exists, OuterRef

from accounts.models import Organization
from tickets import permissions


def organizations_with_visible_tickets(user):
    visible = permissions.visible_tickets(user).filter(organization=OuterRef("pk"))
    return list(
        Organization.objects.filter(Exists(visible)).values_list("slug", flat=True)
    )


def visible_ids(user):
    return list(permissions.visible_tickets(user).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "nested_first", [True, False], ids=["nested-first", "top-first"]
)
@pytest.mark.parametrize(
    "who, sees",
    [("agent", True), ("other_agent", False), ("alice", True), ("bob", True)],
)
def test_first_compiled_nested_or_not_the_answer_is_the_same(
    request, ticket, other_queue, nested_first, who, sees
):
    user = request.getfixturevalue(who)
    permissions._grants_condition.cache_clear()  # compiled afresh, in this order
    reads = [organizations_with_visible_tickets, visible_ids]
    if not nested_first:
        reads.reverse()
    answers = {read.__name__: read(user) for read in reads}
    assert answers == {
        "organizations_with_visible_tickets": ["acme"] if sees else [],
        "visible_ids": [ticket.pk] if sees else [],
    }
