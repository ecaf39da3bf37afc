"""A new ticket's live audience comes from the grants statement that wrote it
(``grants.WrittenAudience``), not from a read after the commit: it must be exactly
what ``permissions.ticket_audience`` reads, and the publisher must fall back to that
read as soon as another grant was written."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import TicketSharing
from live import publisher
from tickets import grants, permissions, services
from tickets.models import TicketEvent
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    make_customer,
)

pytestmark = pytest.mark.django_db


def _written(monkeypatch):
    """The ``WrittenAudience`` each ``grant_new_ticket`` returns, in order."""
    seen = []
    original = grants.grant_new_ticket

    def spy(ticket, **kwargs):
        result = original(ticket, **kwargs)
        seen.append(result)
        return result

    monkeypatch.setattr(grants, "grant_new_ticket", spy)
    return seen


@pytest.mark.parametrize(
    "sharing", [TicketSharing.READ_WRITE, TicketSharing.READ, TicketSharing.NONE]
)
def test_the_written_audience_is_the_committed_one(
    monkeypatch, sharing, queue, agent, other_agent, bob
):
    """Organization sharing, the queue's agents, a filing agent, watchers added later,
    and the denied twin (a customer of another organization)."""
    written = _written(monkeypatch)
    shared = sharing != TicketSharing.NONE
    acme = OrganizationFactory(name="Sharing", slug=f"s-{sharing}")
    acme.ticket_sharing = sharing
    acme.save()
    alice = make_customer(acme, email=f"alice-{sharing}@acme.example")
    colleague = make_customer(acme, email=f"colleague-{sharing}@acme.example")
    stranger = make_customer(
        OrganizationFactory(name="Other", slug=f"o-{sharing}"),
        email=f"stranger-{sharing}@other.example",
    )
    ticket = services.create_ticket(alice, subject="Mine", description="Sync.")
    on_behalf = services.create_ticket(
        agent, subject="For her", description="Phoned in.", requester=alice
    )
    for filed, known in zip((ticket, on_behalf), written, strict=True):
        assert known.current() is None or known.current() == known.audience
        assert known.audience == permissions.ticket_audience(filed.pk)
    services.add_watcher(agent, ticket, colleague if shared else agent)
    assert written[0].audience == permissions.ticket_audience(ticket.pk)

    audience = written[0].audience
    assert audience.users == {alice.pk}
    assert audience.queue_group == queue.agent_group_id
    assert queue.agent_group_id in audience.agent_groups
    assert audience.internal_groups == {queue.agent_group_id}
    assert (acme.group_id in audience.groups) == shared
    for user, sees in ((alice, True), (agent, True), (colleague, shared)):
        allowed = permissions.audience_allows(permissions.viewer_facts(user), audience)
        assert allowed[0] is sees, user
    for denied in (stranger, bob, other_agent):
        allowed = permissions.audience_allows(
            permissions.viewer_facts(denied), audience
        )
        assert allowed == (False, False), denied


def test_an_organization_group_that_is_also_an_agent_group(monkeypatch, queue, agent):
    """Whether a granted group is some queue's agent group is read by the same
    statement: the written audience says so exactly like the read one."""
    written = _written(monkeypatch)
    acme = OrganizationFactory(
        name="Odd", slug="odd", ticket_sharing=TicketSharing.READ
    )
    QueueFactory(slug="odd", name="Odd", agent_group=acme.group)
    alice = make_customer(acme, email="alice@odd.example")
    ticket = services.create_ticket(alice, subject="Odd", description="Setup.")
    assert acme.group_id in written[0].audience.agent_groups
    assert written[0].audience == permissions.ticket_audience(ticket.pk)


def test_the_publisher_uses_it_without_a_statement_until_a_grant_is_written(
    monkeypatch, queue, agent, acme, alice, supervisor
):
    written = _written(monkeypatch)
    published = []
    monkeypatch.setattr(publisher.bus, "publish", published.append)
    ticket = services.create_ticket(alice, subject="Live", description="Now.")
    event = TicketEvent.objects.get(ticket=ticket)
    with CaptureQueriesContext(connection) as ctx:
        message = publisher.message_for(event, ticket, written[0])
    assert len(ctx.captured_queries) == 0
    assert message["aud"] == permissions.ticket_audience(ticket.pk).as_message()
    assert message["ref"] == ticket.reference

    # the ticket's grants change in the same thread: read again, and see the assignee
    other = supervisor
    services.assign(agent, ticket, other)
    assert written[0].current() is None
    with CaptureQueriesContext(connection) as ctx:
        message = publisher.message_for(event, ticket, written[0])
    assert len(ctx.captured_queries) == 1
    assert other.pk in message["aud"]["u"]
    assert message["aud"] == permissions.ticket_audience(ticket.pk).as_message()


def test_filing_publishes_the_committed_audience_with_no_read_after_commit(
    monkeypatch, django_capture_on_commit_callbacks, queue, agent, acme, alice
):
    published = []
    monkeypatch.setattr(publisher.bus, "publish", published.append)
    monkeypatch.setattr(
        "portal.notifications.dispatch.enqueue", lambda *args, **kwargs: None
    )
    with django_capture_on_commit_callbacks() as callbacks:
        ticket = services.create_ticket(alice, subject="Live", description="Now.")
    with CaptureQueriesContext(connection) as ctx:
        for callback in callbacks:
            callback()
    assert not [q for q in ctx.captured_queries if "objectpermission" in q["sql"]]
    (message,) = [m for m in published if m.get("ticket") == ticket.pk]
    assert message["aud"] == permissions.ticket_audience(ticket.pk).as_message()
