"""Who may file a ticket, and which organization a new ticket belongs to: decided by
``services.create_ticket`` (``permissions.why_not_file``, ``services.
default_organization``) and asked by the portal form."""

import pytest
from django.core.exceptions import ValidationError

from accounts import roles
from accounts.services import setup_member
from tickets import permissions, services
from tickets.exceptions import PermissionDenied
from tickets.models import Attachment, Ticket, TicketEvent

from .factories import (
    OrganizationFactory,
    UserFactory,
    make_agent,
    make_customer,
    make_supervisor,
    png_bytes,
    role_group,
    upload,
)
from .portal_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

NEW = "/portal/tickets/new/"
READ_ONLY = "Read-only staff accounts cannot file tickets."


def written():
    return (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        Attachment.objects.count(),
    )


def file(actor, **extra):
    return services.create_ticket(
        actor, subject="Printer on fire", description="Since this morning.", **extra
    )


# --- viewers file nothing ----------------------------------------------------------------


def test_a_viewer_cannot_file_through_the_service(viewer, queue):
    with pytest.raises(PermissionDenied) as refused:
        file(viewer, attachments=[upload("a.png", png_bytes())])
    assert str(refused.value) == READ_ONLY
    assert written() == (0, 0, 0)


def test_a_viewer_cannot_file_for_a_customer(viewer, alice, queue):
    with pytest.raises(PermissionDenied):
        file(viewer, requester=alice)
    assert written() == (0, 0, 0)


@pytest.mark.parametrize(
    ("role", "may"),
    [
        (roles.VIEWERS, False),
        (roles.CUSTOMERS, True),
        (roles.AGENTS, True),
        (roles.SUPERVISORS, True),
        (roles.EDITORS, True),
    ],
)
def test_who_may_file_by_role(queue, role, may):
    user = UserFactory(roles=[role])
    assert permissions.may_file(user) is may
    assert permissions.why_not_file(user) == (None if may else READ_ONLY)
    if may:
        assert file(user).requester == user
    else:
        with pytest.raises(PermissionDenied):
            file(user)
        assert written() == (0, 0, 0)


def test_a_viewer_who_also_works_a_queue_files_like_an_agent(queue):
    user = make_agent(queue)
    user.groups.add(role_group(roles.VIEWERS))
    assert permissions.may_file(user) is True
    assert file(user).requester == user


def test_the_portal_form_is_not_offered_to_viewers(client, viewer, queue):
    client.force_login(viewer)
    assert client.get(NEW).status_code == 404
    response = client.post(
        NEW,
        {
            "subject": "Printer on fire",
            "description": "Since this morning.",
            "category": "technical",
            "priority": "high",
            "attachments": [upload("a.png", png_bytes())],
        },
    )
    assert response.status_code == 404
    assert written() == (0, 0, 0)
    dashboard = client.get("/portal/")
    assert dashboard.context["can_file"] is False
    assert f'class="button" href="{NEW}"' not in dashboard.content.decode()


def test_the_portal_form_is_still_offered_to_agents(client, agent, queue):
    client.force_login(agent)
    assert client.get(NEW).status_code == 200


# --- the default organization ------------------------------------------------------------


def test_the_only_organization_is_the_default(alice, acme, queue):
    assert file(alice).organization == acme


def test_the_organization_joined_first_is_the_default(queue):
    zeta = OrganizationFactory(name="Zeta", slug="zeta")
    acme = OrganizationFactory(name="Acme", slug="acme")
    user = make_customer(zeta)
    setup_member(acme, user)
    assert services.default_organization(user) == zeta
    assert file(user).organization == zeta
    assert file(user, organization=acme).organization == acme


def test_no_organization_for_a_requester_of_none(queue):
    user = make_customer()
    assert services.default_organization(user) is None
    assert file(user).organization is None


def test_filing_for_a_customer_takes_the_customers_organization(
    agent, alice, acme, queue
):
    ticket = file(agent, requester=alice)
    assert (ticket.requester, ticket.organization) == (alice, acme)


def test_an_organization_of_someone_else_is_refused(alice, globex, queue):
    with pytest.raises(ValidationError) as refused:
        file(alice, organization=globex)
    assert refused.value.message_dict == {
        "organization": ["The requester is not a member of this organization."]
    }
    assert written() == (0, 0, 0)


def test_the_portal_files_under_the_default_organization(client, queue):
    """Several organizations: the form preselects the default, and a post without a
    choice files under it (the form used to require one)."""
    zeta = OrganizationFactory(name="Zeta", slug="zeta")
    acme = OrganizationFactory(name="Acme", slug="acme")
    user = make_customer(zeta)
    setup_member(acme, user)
    client.force_login(user)
    form = client.get(NEW).context["form"]
    assert form["organization"].value() == zeta.pk
    response = client.post(
        NEW,
        {
            "subject": "Printer on fire",
            "description": "Since this morning.",
            "category": "technical",
            "priority": "high",
        },
    )
    assert response.status_code == 302
    assert Ticket.objects.get().organization == zeta


def test_the_portal_refuses_an_organization_of_someone_else(client, alice, globex):
    zeta = OrganizationFactory(name="Zeta", slug="zeta")
    setup_member(zeta, alice)
    client.force_login(alice)
    response = client.post(
        NEW,
        {
            "subject": "Printer on fire",
            "description": "Since this morning.",
            "category": "technical",
            "priority": "high",
            "organization": globex.pk,
        },
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["organization"]
    assert written() == (0, 0, 0)


def test_supervisors_file_their_own_tickets(queue):
    supervisor = make_supervisor()
    assert file(supervisor).requester == supervisor
