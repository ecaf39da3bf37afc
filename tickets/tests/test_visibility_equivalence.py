"""``visible_tickets`` (UNION + queue rule, bench FINDINGS T-1) must return exactly the
tickets the original definition — any ``view_ticket`` grant to the user or one of
their groups — returned, for every kind of user on a mixed dataset."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.models import TicketSharing
from tickets import permissions, services
from tickets.models import (
    Ticket,
    TicketGroupObjectPermission,
    TicketUserObjectPermission,
)

from .factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
    make_supervisor,
    make_viewer,
)


def old_definition(user):
    """The pre-T-1 query, kept verbatim as the specification, with the queue group's
    grants (rows until V-3) given by their owner, ``permissions.queue_group_grants``."""
    membership = get_user_model().groups.through.objects.filter(user_id=user.pk)
    by_user = TicketUserObjectPermission.objects.filter(
        user_id=user.pk,
        permission__codename="view_ticket",
        permission__content_type__app_label="tickets",
    ).values("content_object_id")
    by_group = TicketGroupObjectPermission.objects.filter(
        group_id__in=membership.values("group_id"),
        permission__codename="view_ticket",
        permission__content_type__app_label="tickets",
    ).values("content_object_id")
    groups = set(membership.values_list("group_id", flat=True))
    by_rule = {
        ticket.pk
        for ticket in Ticket.objects.select_related("queue")
        if any(
            group_id in groups and codename == "view_ticket"
            for group_id, codename in permissions.queue_group_grants(ticket)
        )
    }
    return by_rule | set(
        Ticket.objects.filter(Q(pk__in=by_user) | Q(pk__in=by_group)).values_list(
            "pk", flat=True
        )
    )


def new_definition(user):
    return set(permissions.visible_tickets(user).values_list("pk", flat=True))


def test_new_visible_tickets_equals_old_definition_on_a_mixed_dataset(db):
    support, billing, sales = (QueueFactory() for _ in range(3))
    shared_rw = OrganizationFactory(ticket_sharing=TicketSharing.READ_WRITE)
    shared_r = OrganizationFactory(ticket_sharing=TicketSharing.READ)
    private = OrganizationFactory(ticket_sharing=TicketSharing.NONE)
    rw1, rw2 = make_customer(shared_rw), make_customer(shared_rw)
    r1, r2 = make_customer(shared_r), make_customer(shared_r)
    p1, p2 = make_customer(private), make_customer(private)
    loner = make_customer()
    agent_support = make_agent(support)
    agent_two = make_agent(billing, sales)
    agent_none = make_agent()
    supervisor = make_supervisor()
    for requester, org in (
        (rw1, shared_rw),
        (rw2, shared_rw),
        (r1, shared_r),
        (r2, shared_r),
        (p1, private),
        (p2, private),
        (loner, None),
    ):
        for queue in (support, billing, sales):
            TicketFactory(requester=requester, queue=queue, organization=org)
    # Assigned in support, then moved to sales: the assignee's own grant, not the
    # queue, keeps it visible to them (if the move keeps the assignee).
    assigned = Ticket.objects.filter(queue=support, requester=rw1).get()
    services.assign(supervisor, assigned, agent_support)
    services.move_queue(supervisor, assigned, sales)
    # A ticket moved between queues: grants follow the queue.
    moved = Ticket.objects.filter(queue=support, requester=loner).get()
    services.move_queue(supervisor, moved, billing)
    # A staff member who is also in an organization (customer-style grant).
    agent_in_org = make_agent(support)
    from accounts.services import setup_member

    setup_member(shared_r, agent_in_org, "member")

    users = [
        rw1,
        rw2,
        r1,
        r2,
        p1,
        p2,
        loner,
        agent_support,
        agent_two,
        agent_none,
        agent_in_org,
        make_customer(),
    ]
    sizes = {}
    for user in users:
        user = get_user_model().objects.get(pk=user.pk)  # no cached roles
        old = old_definition(user)
        assert new_definition(user) == old, user.email
        sizes[user.email] = len(old)
    # The dataset exercises every branch: shared, private, queues, assignment.
    assert sizes[rw2.email] == 6  # both rw members' tickets
    assert sizes[r2.email] == 6
    assert sizes[p2.email] == 3  # own only
    # support: 7 - assigned - moved, plus the assigned one now in sales
    assert sizes[agent_support.email] == 6
    assert sizes[agent_two.email] == 7 + 7 + 2  # billing + sales + moved + assigned
    assert sizes[agent_none.email] == 0
    # support queue (5) + shared_r org (6), the 2 support tickets of shared_r once
    assert sizes[agent_in_org.email] == 9
    assert len(new_definition(make_viewer())) == Ticket.objects.count() == 21
