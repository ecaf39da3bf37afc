from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tickets import hooks, permissions, services
from tickets.exceptions import PermissionDenied
from tickets.models import EventKind, Queue, SLAPolicy, Ticket, TicketEvent

from .factories import OrganizationFactory, TicketFactory, make_customer


def test_create_ticket_numbers_grants_and_records(alice, agent, queue, acme):
    ticket = services.create_ticket(
        alice,
        subject="  Sync stopped  ",
        description="Since Monday.",
        priority="high",
        organization=acme,
    )
    assert ticket.reference == "HD-000001"
    assert ticket.subject == "Sync stopped"
    assert ticket.status == "new"
    assert ticket.queue == queue
    assert ticket.requester == alice
    assert ticket.first_response_due_at - ticket.created_at == timedelta(hours=4)
    assert ticket.resolution_due_at - ticket.created_at == timedelta(hours=24)
    assert permissions.ticket_perms(alice, ticket) == {
        "view_ticket",
        "comment_ticket",
        "rate_ticket",
    }
    assert permissions.ticket_perms(agent, ticket) == {
        "view_ticket",
        "change_ticket",
        "comment_ticket",
        "add_internal_note",
        "view_internal_notes",
        "assign_ticket",
    }
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.kind, event.actor, event.new_value) == ("created", alice, "new")
    second = services.create_ticket(alice, subject="Another", description="x")
    assert second.reference == "HD-000002"


def test_reference_prefix_comes_from_settings_at_call_time(alice, queue, settings):
    settings.TICKETS_REFERENCE_PREFIX = "SUP"
    ticket = services.create_ticket(alice, subject="S", description="D")
    assert ticket.reference == "SUP-000001"


def test_first_ticket_on_a_fresh_install_creates_the_default_queue(db):
    customer = make_customer()
    ticket = services.create_ticket(customer, subject="Hello", description="World")
    assert ticket.queue.slug == "support"
    assert ticket.queue.agent_group.name == "Support agents"
    assert Queue.objects.count() == 1


def test_queue_sla_policy_sets_due_times(alice, queue):
    queue.sla_policy = SLAPolicy.objects.create(
        name="Gold", first_response_minutes_low=30, resolution_minutes_low=90
    )
    queue.save()
    ticket = services.create_ticket(alice, subject="S", description="D", priority="low")
    assert ticket.first_response_due_at - ticket.created_at == timedelta(minutes=30)
    assert ticket.resolution_due_at - ticket.created_at == timedelta(minutes=90)


def test_default_policy_targets_match_the_brief():
    policy = SLAPolicy(name="defaults")
    assert [
        policy.resolution_minutes(p) for p in ("critical", "high", "medium", "low")
    ] == [
        4 * 60,
        24 * 60,
        72 * 60,
        168 * 60,
    ]


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("subject", {"subject": "   "}),
        ("description", {"description": ""}),
        ("priority", {"priority": "urgent"}),
        ("category", {"category": "hardware"}),
        ("source", {"source": "fax"}),
    ],
)
def test_create_ticket_refuses_bad_input(alice, queue, field, kwargs):
    data = {"subject": "S", "description": "D", **kwargs}
    with pytest.raises(ValidationError) as error:
        services.create_ticket(alice, **data)
    assert field in error.value.message_dict
    assert Ticket.objects.count() == 0
    assert TicketEvent.objects.count() == 0


def test_organization_must_be_one_of_the_requesters(alice, queue):
    globex = OrganizationFactory(name="Globex", slug="globex")
    with pytest.raises(ValidationError) as error:
        services.create_ticket(alice, subject="S", description="D", organization=globex)
    assert error.value.message_dict == {
        "organization": ["The requester is not a member of this organization."]
    }
    assert Ticket.objects.count() == 0


def test_customers_cannot_file_for_someone_else(alice, bob, queue):
    with pytest.raises(PermissionDenied):
        services.create_ticket(alice, subject="S", description="D", requester=bob)
    assert Ticket.objects.count() == 0


def test_agent_files_on_behalf_of_a_customer(agent, alice, queue):
    ticket = services.create_ticket(
        agent, subject="Phoned in", description="D", requester=alice, source="agent"
    )
    assert ticket.requester == alice
    assert permissions.can(alice, "reply", ticket)
    event = ticket.events.get()
    assert event.actor == agent
    assert event.data == {"source": "agent", "on_behalf": True}


def test_hooks_run_in_transaction_and_after_commit(
    alice, queue, django_capture_on_commit_callbacks
):
    seen = []

    def inside(kind, ticket, event, **data):
        seen.append(("inside", kind, ticket.reference, event.kind))

    def after(kind, ticket, event, **data):
        seen.append(("after", kind, ticket.reference))

    hooks.register(EventKind.CREATED, inside, in_transaction=True)
    hooks.register("*", after)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.create_ticket(alice, subject="S", description="D")
            assert seen == [("inside", "created", "HD-000001", "created")]
        assert seen[-1] == ("after", "created", "HD-000001")
    finally:
        hooks.unregister(EventKind.CREATED, inside, in_transaction=True)
        hooks.unregister("*", after)


def test_failing_in_transaction_hook_rolls_back_the_ticket(alice, queue):
    def boom(kind, ticket, event, **data):
        raise RuntimeError("outbox down")

    hooks.register(EventKind.CREATED, boom, in_transaction=True)
    try:
        with pytest.raises(RuntimeError):
            services.create_ticket(alice, subject="S", description="D")
    finally:
        hooks.unregister(EventKind.CREATED, boom, in_transaction=True)
    assert Ticket.objects.count() == 0


def test_ticket_urls(ticket):
    assert ticket.get_absolute_url() == f"/portal/tickets/{ticket.reference}/"
    assert ticket.get_admin_url() == f"/admin/helpdesk/tickets/{ticket.reference}/"


def test_factory_builds_through_the_service(db):
    ticket = TicketFactory()
    assert ticket.reference.startswith("HD-")
    assert permissions.can(ticket.requester, "view", ticket)


@pytest.mark.django_db
def test_unapproved_customer_cannot_file_on_any_surface(settings):
    """The approval rule lives in the service, so GraphQL and the portal both obey it."""
    from django.core.exceptions import PermissionDenied

    from accounts.models import ApprovalStatus
    from tickets.models import Ticket
    from tickets.tests.factories import QueueFactory, make_customer

    settings.ACCOUNT_APPROVAL_REQUIRED = True
    QueueFactory(is_default=True)
    pending = make_customer(approval_status=ApprovalStatus.PENDING)
    with pytest.raises(PermissionDenied, match="awaiting approval"):
        services.create_ticket(pending, subject="Help", description="Please")
    assert Ticket.objects.count() == 0
    pending.approval_status = ApprovalStatus.APPROVED
    pending.save()
    assert services.create_ticket(pending, subject="Help", description="Please").pk


def test_create_ticket_costs_a_fixed_number_of_statements(
    alice, agent, queue, acme, django_assert_num_queries
):
    services.create_ticket(alice, subject="Warm", description="Up.")
    # savepoint; the requester's organization; the default queue and the default SLA
    # policy; the reference (SQLite: the counter row, a free number, its update;
    # PostgreSQL: drawn by the ticket's INSERT); the ticket; its grants
    # (one INSERT … SELECT per table; PostgreSQL: one statement with the ticket's
    # INSERT and the event), which returns the live audience (no read after the
    # commit); the event (SQLite); the webhooks; the queue's agents with their roles
    # (one statement); the emails' outbox rows (one INSERT); release.
    expected = 9 if connection.vendor == "postgresql" else 15
    with django_assert_num_queries(expected):
        services.create_ticket(
            alice, subject="Sync stopped", description="Since Monday."
        )


def test_the_first_event_is_what_the_orm_writes(alice, agent, queue, acme):
    """The ticket's first event (on PostgreSQL written by its grants' statement,
    ``KeptInsert.part``): the stored row and the instance the hooks get are what
    ``save(force_insert=True)`` of the same event writes, with ``pre_save`` and
    ``post_save`` sent once each, in that order, as for a save."""
    from django.db.models.signals import post_save, pre_save

    sent, emitted = [], []

    def pre(sender, instance, **kwargs):
        sent.append(("pre_save", instance.pk, kwargs["update_fields"]))

    def post(sender, instance, **kwargs):
        sent.append(("post_save", instance.pk, kwargs["created"]))

    def hook(kind, ticket, event, **data):
        emitted.append(event)

    pre_save.connect(pre, sender=TicketEvent)
    post_save.connect(post, sender=TicketEvent)
    hooks.register(EventKind.CREATED, hook, in_transaction=True)
    try:
        ticket = services.create_ticket(alice, subject="Help", description="Please")
    finally:
        pre_save.disconnect(pre, sender=TicketEvent)
        post_save.disconnect(post, sender=TicketEvent)
        hooks.unregister(EventKind.CREATED, hook, in_transaction=True)
    [event] = emitted
    stored = TicketEvent.objects.get(ticket=ticket)
    assert sent == [("pre_save", None, None), ("post_save", stored.pk, True)]
    assert (event.pk, event._state.adding, event._state.db) == (
        stored.pk,
        False,
        "default",
    )
    orm = TicketEvent(
        ticket=ticket,
        actor=alice,
        kind=EventKind.CREATED,
        old_value="",
        new_value=ticket.status,
        data={"source": ticket.source, "on_behalf": False},
    )
    orm.save(force_insert=True)
    orm.refresh_from_db()

    def columns(row):
        skip = ("id", "created_at")
        return {
            f.attname: getattr(row, f.attname)
            for f in TicketEvent._meta.concrete_fields
            if f.attname not in skip
        }

    assert columns(stored) == columns(orm) == columns(event)
    assert stored.created_at == event.created_at
    assert abs(stored.created_at - orm.created_at) < timedelta(minutes=1)


def test_the_ticket_is_what_the_orm_writes(alice, agent, queue, acme):
    """The ticket's row (on PostgreSQL written by the statement that writes its
    grants and first event too) and the instance are what ``save(force_insert=True)``
    of the same values writes, ``pre_save`` and ``post_save`` sent once each; the
    event points at it and the grants at its id."""
    from django.db.models.signals import post_save, pre_save

    from tickets.models import TicketUserObjectPermission

    sent = []

    def pre(sender, instance, **kwargs):
        sent.append(("pre_save", instance.pk))

    def post(sender, instance, **kwargs):
        sent.append(("post_save", instance.pk, kwargs["created"]))

    pre_save.connect(pre, sender=Ticket)
    post_save.connect(post, sender=Ticket)
    try:
        ticket = services.create_ticket(
            alice, subject="Row", description="Written once.", organization=acme
        )
    finally:
        pre_save.disconnect(pre, sender=Ticket)
        post_save.disconnect(post, sender=Ticket)
    assert sent == [("pre_save", None), ("post_save", ticket.pk, True)]
    stored = Ticket.objects.get(pk=ticket.pk)
    skip = ("id", "reference", "updated_at")
    orm = Ticket(
        **{
            f.attname: getattr(ticket, f.attname)
            for f in Ticket._meta.concrete_fields
            if f.attname not in skip
        }
    )
    orm.reference = "HD-ORM-1"
    orm.save(force_insert=True)
    orm.refresh_from_db()

    def columns(row):
        return {
            f.attname: getattr(row, f.attname)
            for f in Ticket._meta.concrete_fields
            if f.attname not in skip
        }

    assert columns(stored) == columns(orm) == columns(ticket)
    assert stored.reference == ticket.reference
    assert (ticket._state.adding, ticket._state.db) == (False, "default")
    [event] = TicketEvent.objects.filter(ticket=ticket)
    assert event.kind == EventKind.CREATED
    assert TicketUserObjectPermission.objects.filter(content_object=ticket).count() == 3


def test_a_new_tickets_grants_are_what_the_sync_asks_for(alice, agent, queue, acme):
    """``grants.grant_new_ticket`` (one statement) and ``sync_ticket_permissions``
    agree: syncing a new ticket changes nothing."""
    from tickets import grants
    from tickets.models import TicketGroupObjectPermission, TicketUserObjectPermission

    def rows(ticket):
        return (
            set(
                TicketUserObjectPermission.objects.filter(
                    content_object=ticket
                ).values_list("user_id", "permission__codename")
            ),
            set(
                TicketGroupObjectPermission.objects.filter(
                    content_object=ticket
                ).values_list("group_id", "permission__codename")
            ),
        )

    ticket = services.create_ticket(
        alice, subject="Shared", description="With Acme.", organization=acme
    )
    made = rows(ticket)
    users, groups = made
    assert {codename for _, codename in users} == set(grants.REQUESTER_PERMS)
    # the queue's agent group holds its rights by the rule, with no row
    assert {gid for gid, _ in groups} == {acme.group_id}
    assert permissions.queue_group_grants(ticket) == {
        (queue.agent_group_id, codename) for codename in grants.AGENT_PERMS
    }
    grants.sync_ticket_permissions(ticket)
    assert rows(ticket) == made


def test_a_filers_organizations_are_their_memberships_read_in_one_statement(
    alice, acme, django_assert_num_queries
):
    """``organizations_for_filing`` (a statement compiled once per process) gives
    what the requester's memberships give: by name, then membership, each with its
    membership's ``(created_at, pk)``; nobody else's memberships count."""
    from accounts.services import setup_member

    for name in ["Zeta", "Beta"]:
        setup_member(OrganizationFactory(name=name, slug=name.lower()), alice)
    setup_member(OrganizationFactory(name="Other", slug="other"), make_customer())
    expected = [
        (m.organization.pk, m.organization.name, (m.created_at, m.pk))
        for m in alice.memberships.select_related("organization").order_by(
            "organization__name", "pk"
        )
    ]
    assert [name for _, name, _ in expected] == ["Acme", "Beta", "Zeta"]
    with django_assert_num_queries(1):
        got = services.organizations_for_filing(alice)
    assert [(o.pk, o.name, o.joined) for o in got] == expected
    assert services.organizations_for_filing(alice) is got  # kept until filed
    assert services.default_organization(alice).pk == acme.pk
