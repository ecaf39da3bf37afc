"""Editing organizations in the Django admin goes through the services: the ticket
grants and the organization's permission group follow the change."""

import pytest

from accounts.models import Membership, TicketSharing
from tickets import permissions
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_customer,
)


def _admin_post(org, **overrides):
    data = {
        "name": org.name,
        "slug": org.slug,
        "email_domains": '["acme.example"]',
        "ticket_sharing": org.ticket_sharing,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_changing_sharing_in_the_admin_moves_ticket_grants(admin_client):
    org = OrganizationFactory(ticket_sharing=TicketSharing.NONE)
    alice = make_customer(org)
    bob = make_customer(org)
    ticket = TicketFactory(requester=alice, queue=QueueFactory(), organization=org)
    assert not permissions.visible_tickets(bob).filter(pk=ticket.pk).exists()

    response = admin_client.post(
        f"/django-admin/accounts/organization/{org.pk}/change/",
        _admin_post(org, ticket_sharing="read"),
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.ticket_sharing == "read"
    assert permissions.visible_tickets(bob).filter(pk=ticket.pk).exists()
    assert not permissions.can(bob, "reply", ticket)

    admin_client.post(
        f"/django-admin/accounts/organization/{org.pk}/change/",
        _admin_post(org, ticket_sharing="none"),
    )
    assert not permissions.visible_tickets(bob).filter(pk=ticket.pk).exists()


@pytest.mark.django_db
def test_adding_a_member_in_the_admin_joins_the_permission_group(admin_client):
    org = OrganizationFactory(ticket_sharing=TicketSharing.READ)
    alice = make_customer(org)
    ticket = TicketFactory(requester=alice, queue=QueueFactory(), organization=org)
    newcomer = make_customer(None, email="new@acme.example")
    data = _admin_post(
        org,
        **{
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-user": str(newcomer.pk),
            "memberships-0-role": "member",
        },
    )
    # the existing membership of alice is an initial form
    existing = Membership.objects.get(user=alice)
    data.update(
        {
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": str(existing.pk),
            "memberships-0-user": str(alice.pk),
            "memberships-0-role": existing.role,
            "memberships-0-organization": str(org.pk),
            "memberships-1-user": str(newcomer.pk),
            "memberships-1-role": "member",
            "memberships-1-organization": str(org.pk),
        }
    )
    response = admin_client.post(
        f"/django-admin/accounts/organization/{org.pk}/change/", data
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert newcomer.groups.filter(pk=org.group_id).exists()
    assert permissions.visible_tickets(newcomer).filter(pk=ticket.pk).exists()


@pytest.mark.django_db
def test_supervisors_may_review_accounts_but_agents_may_not():
    from accounts.permissions import can_review_accounts
    from tickets.tests.factories import make_agent, make_supervisor

    assert can_review_accounts(make_supervisor()) is True
    assert can_review_accounts(make_agent(QueueFactory())) is False
