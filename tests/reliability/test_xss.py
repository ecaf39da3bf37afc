"""Script payloads in every field that is shown back are escaped, wherever shown.

A payload is stored as typed (it is text, not markup) and must never come back as
markup: the raw ``<script>`` never appears, the escaped text does.
"""

import pytest
from django.core import mail
from django.utils.html import escape

from accounts.models import ApprovalStatus, Membership
from accounts.services import create_organization, invite_member, setup_member
from kb import counters as kb_counters
from tickets import services
from tickets.tests.factories import make_customer

pytestmark = pytest.mark.django_db

PAYLOAD = "<script>alert('x')</script><img src=x onerror=alert(1)>"
ESCAPED = escape(PAYLOAD)


def assert_escaped(html: str) -> None:
    assert PAYLOAD not in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert ESCAPED in html


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    def _act(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return _act


def test_organization_and_member_names_are_escaped_for_the_manager(client):
    organization = create_organization(name=PAYLOAD, slug="evil")
    manager = make_customer(display_name="Manager")
    setup_member(organization, manager, Membership.Role.MANAGER)
    setup_member(organization, make_customer(display_name=PAYLOAD))
    client.force_login(manager)

    page = client.get("/account/organizations/evil/")
    profile = client.get("/account/profile/")

    assert page.status_code == profile.status_code == 200
    html = page.content.decode()
    assert html.count(ESCAPED) == 4  # title, breadcrumb, heading, member row
    assert_escaped(html)
    assert_escaped(profile.content.decode())


def test_invitation_page_and_email_escape_the_names(client, act):
    organization = create_organization(name=PAYLOAD, slug="evil")
    manager = make_customer(display_name=PAYLOAD)
    setup_member(organization, manager, Membership.Role.MANAGER)
    invitation = act(
        invite_member, organization, email="new@example.com", invited_by=manager
    )

    response = client.get(f"/account/invitations/{invitation.token}/")

    assert response.status_code == 200
    assert_escaped(response.content.decode())
    [message] = mail.outbox
    assert PAYLOAD in message.subject + message.body  # plain text stays as typed
    for html, mimetype in message.alternatives:  # the text part is not HTML
        assert mimetype == "text/html"
        assert_escaped(html)


def test_ticket_emails_escape_subject_description_names_and_replies(
    act, acme, queue, agent
):
    requester = make_customer(acme, display_name=PAYLOAD)
    ticket = act(
        services.create_ticket, requester, subject=PAYLOAD, description=PAYLOAD
    )
    act(services.reply, agent, ticket, body=PAYLOAD)

    htmls = [
        html
        for message in mail.outbox
        for html, mimetype in message.alternatives
        if mimetype == "text/html"
    ]
    assert len(htmls) == len(mail.outbox) == 3  # receipt, agent alert, reply
    for html in htmls:
        assert_escaped(html)
    assert PAYLOAD in mail.outbox[0].body  # plain text stays as typed


def test_pending_account_display_name_is_escaped_in_the_approvals_admin(admin_client):
    make_customer(display_name=PAYLOAD, approval_status=ApprovalStatus.PENDING)
    response = admin_client.get("/admin/accounts/")
    assert response.status_code == 200
    assert_escaped(response.content.decode())


def test_kb_search_echo_and_unanswered_search_report_are_escaped(
    client, admin_client, make_article
):
    make_article("Sync files")
    response = client.get("/kb/search/", {"q": PAYLOAD})
    assert response.status_code == 200
    assert_escaped(response.content.decode())

    kb_counters.record_search(PAYLOAD, result_count=0)
    report = admin_client.get("/admin/reports/kb-unanswered-searches/")
    assert report.status_code == 200
    assert PAYLOAD not in report.content.decode()
    assert "<script>alert" not in report.content.decode()


def test_ticket_subject_is_escaped_in_the_django_admin(admin_client, alice, queue):
    ticket = services.create_ticket(alice, subject=PAYLOAD, description=PAYLOAD)
    listing = admin_client.get("/django-admin/tickets/ticket/")
    detail = admin_client.get(f"/django-admin/tickets/ticket/{ticket.pk}/change/")
    assert listing.status_code == detail.status_code == 200
    assert_escaped(listing.content.decode())
    assert_escaped(detail.content.decode())


# --- the portal and the agent desk ---------------------------------------------------


@pytest.fixture
def poisoned(queue, agent):
    """A ticket whose every customer-written field, and the names around it, carry the
    payload: organization, requester, subject, description, tags, replies, a note and a
    file name."""
    from accounts.models import TicketSharing
    from tickets.tests.factories import OrganizationFactory

    organization = OrganizationFactory(
        name=PAYLOAD, slug="evil", ticket_sharing=TicketSharing.READ_WRITE
    )
    requester = make_customer(organization, display_name=PAYLOAD)
    ticket = services.create_ticket(
        requester,
        subject=PAYLOAD,
        description=PAYLOAD,
        organization=organization,
        attachments=[_named_text_file(PAYLOAD.replace("/", "") + ".txt")],
    )
    services.reply(requester, ticket, body=PAYLOAD)
    services.reply(agent, ticket, body=PAYLOAD)
    services.add_internal_note(agent, ticket, body=PAYLOAD)
    services.set_tags(agent, ticket, ["<b>tag</b>"])
    return ticket


def _named_text_file(name):
    from django.core.files.base import ContentFile

    return ContentFile(b"hello\n", name=name)


def test_portal_pages_escape_every_customer_field(client, poisoned):
    client.force_login(poisoned.requester)
    for path in (
        "/portal/",
        "/portal/tickets/",
        f"/portal/tickets/{poisoned.reference}/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_escaped(response.content.decode())


def test_desk_pages_escape_every_customer_field(client, poisoned, agent):
    client.force_login(agent)
    for path in (
        "/admin/helpdesk/tickets/",
        f"/admin/helpdesk/tickets/{poisoned.reference}/",
        "/admin/helpdesk/organizations/",
        "/admin/helpdesk/organizations/evil/",
        "/admin/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert PAYLOAD not in html, path
        assert "<script>alert" not in html, path
        assert "<b>tag</b>" not in html, path
        if "tickets/" in path or "organizations/evil" in path:
            assert ESCAPED in html, path


def test_desk_reports_escape_organization_and_agent_names(client, poisoned, supervisor):
    from tickets.models import Ticket

    Ticket.objects.filter(pk=poisoned.pk).update(assignee=supervisor)
    supervisor.display_name = PAYLOAD
    supervisor.save()
    client.force_login(supervisor)
    day = poisoned.created_at.date().isoformat()
    for dimension in ("organization", "agent", "queue"):
        response = client.get(
            "/admin/helpdesk/reports/",
            {"dimension": dimension, "start": day, "end": day},
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert PAYLOAD not in html, dimension
        assert "<script>alert" not in html, dimension
        if dimension != "queue":
            assert ESCAPED in html, dimension


def test_canned_responses_are_escaped_in_the_desk(client, poisoned, agent):
    from tickets.models import CannedResponse

    CannedResponse.objects.create(title=PAYLOAD, body=PAYLOAD + " {{ requester_name }}")
    client.force_login(agent)
    response = client.get(f"/admin/helpdesk/tickets/{poisoned.reference}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert PAYLOAD not in html
    assert "<script>alert" not in html
    assert ESCAPED in html  # the title in the picker
