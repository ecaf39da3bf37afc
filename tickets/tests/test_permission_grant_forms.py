"""The customer visibility rule in its three forms, from the same rows
(``tickets.permissions``): ``_rows_q`` (a customer who works no queue sees the tickets
they, or a group they are a member of, hold a ``view_ticket`` row on), the probe of
each ticket (``customer_grant_probe``) and the ids outside some organizations
(``customer_granted_ids_outside``) that ``tickets.portal.walk`` reads. They agree
ticket by ticket for every kind of holder."""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.models import TicketSharing
from tickets import permissions
from tickets.models import (
    Ticket,
    TicketGroupObjectPermission,
    TicketUserObjectPermission,
)

from .factories import OrganizationFactory, TicketFactory, make_customer

pytestmark = pytest.mark.django_db


def _view_id():
    return Permission.objects.get(
        codename="view_ticket", content_type__app_label="tickets"
    ).pk


@pytest.fixture
def world(acme, alice, bob, queue):
    """Acme shares its tickets (its group's rows); Globex shares nothing. Rows
    beside the organizations': Alice's own row on a Globex ticket, a group "vip"
    (Carol's) with a row on an Acme ticket, Acme's group's row on another Globex
    ticket (against the grants' invariant, written by hand), and Dave, who holds
    no row at all."""
    globex = OrganizationFactory(
        name="Globex", slug="globex", ticket_sharing=TicketSharing.NONE
    )
    carol = make_customer(globex, email="carol@globex.example")
    dave = make_customer(email="dave@example.com")
    acme_tickets = [
        TicketFactory(requester=who, queue=queue, organization=acme)
        for who in (alice, bob, bob, alice)
    ]
    globex_tickets = [
        TicketFactory(requester=carol, queue=queue, organization=globex)
        for _ in range(3)
    ]
    view = _view_id()
    TicketUserObjectPermission.objects.create(
        user=alice, content_object=globex_tickets[0], permission_id=view
    )
    vip = Group.objects.create(name="vip")
    carol.groups.add(vip)
    TicketGroupObjectPermission.objects.create(
        group=vip, content_object=acme_tickets[1], permission_id=view
    )
    TicketGroupObjectPermission.objects.create(
        group_id=acme.group_id, content_object=globex_tickets[1], permission_id=view
    )
    return {
        "acme": acme,
        "globex": globex,
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "dave": dave,
        "acme_tickets": acme_tickets,
        "globex_tickets": globex_tickets,
    }


def _by_rows(user) -> set[int]:
    return set(
        Ticket.objects.filter(permissions._rows_q(user.pk)).values_list("pk", flat=True)
    )


def _by_probe(user, group) -> set[int]:
    probe = permissions.customer_grant_probe(
        user.pk, group, permissions.view_ticket_id()
    )
    return set(Ticket.objects.filter(probe).values_list("pk", flat=True))


def _by_walk(user, organization) -> set[int]:
    """What the walk finds: the organization's tickets probed, and the ids outside."""
    view = permissions.view_ticket_id()
    shared = [(organization.pk, organization.group_id)]
    walked = Ticket.objects.filter(organization=organization).filter(
        permissions.customer_grant_probe(user.pk, organization.group_id, view)
    )
    outside = permissions.customer_granted_ids_outside(user.pk, shared, view)
    return set(walked.values_list("pk", flat=True)) | set(
        outside.values_list("content_object_id", flat=True)
    )


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "dave"])
@pytest.mark.parametrize("organization", ["acme", "globex"])
def test_the_forms_agree_ticket_by_ticket(world, who, organization):
    user, org = world[who], world[organization]
    rows = _by_rows(user)
    assert _by_probe(user, org.group_id) == rows
    assert _by_walk(user, org) == rows


def test_each_kind_of_row_decides(world):
    """Exact sets, so that the agreement above is not of two empty forms."""
    acme, globex = world["acme_tickets"], world["globex_tickets"]
    acme_ids = {t.pk for t in acme}
    # Alice: Acme's group rows, her own row, Acme's group's stray row
    assert _by_rows(world["alice"]) == acme_ids | {globex[0].pk, globex[1].pk}
    # Carol: her own tickets (her rows; Globex shares nothing) and vip's row
    assert _by_rows(world["carol"]) == {t.pk for t in globex} | {acme[1].pk}
    # Dave: no row, nothing (the denied twin)
    assert _by_rows(world["dave"]) == set()
    assert _by_probe(world["dave"], world["acme"].group_id) == set()
    assert globex[2].pk not in _by_walk(world["alice"], world["acme"])


def test_a_row_removed_is_a_ticket_hidden_in_every_form(world):
    alice, acme = world["alice"], world["acme"]
    hidden = world["acme_tickets"][0]
    TicketGroupObjectPermission.objects.filter(content_object=hidden).delete()
    TicketUserObjectPermission.objects.filter(content_object=hidden).delete()
    for found in (
        _by_rows(alice),
        _by_probe(alice, acme.group_id),
        _by_walk(alice, acme),
    ):
        assert hidden.pk not in found
        assert world["acme_tickets"][2].pk in found


def test_an_inactive_user_rows_agree_and_the_policy_shows_nothing(world):
    """The forms state the rows only; that an inactive user sees nothing is decided
    before them (``visible_tickets``, ``KeptVisible.shape``: no walk)."""
    bob = world["bob"]
    bob.is_active = False
    bob.save()
    rows = _by_rows(bob)
    assert rows == {t.pk for t in world["acme_tickets"]} | {
        world["globex_tickets"][1].pk
    }
    assert _by_probe(bob, world["acme"].group_id) == rows
    assert _by_walk(bob, world["acme"]) == rows
    assert not permissions.visible_tickets(bob).exists()
    assert permissions.KeptVisible.shape(bob) is None
