"""Every POST form refuses a request without a CSRF token (403) and changes nothing.

The test client normally skips CSRF checks; ``enforce_csrf_checks=True`` makes it
behave like a browser on a forged cross-site form.
"""

import pytest
from django.core import mail
from django.test import Client

from accounts import tokens
from accounts.models import ApiToken, ApprovalStatus, Invitation, Membership, User
from accounts.services import create_organization, invite_member, setup_member
from kb.models import ArticleFeedback
from tickets.models import Comment, Ticket, TicketEvent
from tickets.tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def world(make_article, admin_user, queue, agent):
    """Everything the forms act on, and a snapshot of it."""
    from tickets import services

    organization = create_organization(name="Acme", slug="acme")
    manager = make_customer(display_name="Manager", email="manager@acme.example")
    setup_member(organization, manager, Membership.Role.MANAGER)
    invitation = invite_member(
        organization, email="new@acme.example", invited_by=manager
    )
    invitee = make_customer(email="new@acme.example")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(
        user=invitee, email=invitee.email, verified=True, primary=True
    )
    token = tokens.create_token(manager, name="CI", scopes="read").token
    pending = make_customer(
        email="pending@example.com", approval_status=ApprovalStatus.PENDING
    )
    article = make_article("Sync files")
    ticket = services.create_ticket(manager, subject="Printer", description="jams")
    resolved = services.create_ticket(manager, subject="Done", description="fixed")
    services.change_status(agent, resolved, "resolved")
    mail.outbox.clear()
    return {
        "ticket": ticket,
        "resolved": resolved,
        "agent": agent,
        "organization": organization,
        "manager": manager,
        "invitee": invitee,
        "invitation": invitation,
        "token": token,
        "pending": pending,
        "article": article,
        "admin": admin_user,
    }


def snapshot():
    return {
        "users": sorted(
            User.objects.values_list(
                "email", "display_name", "approval_status", "is_active"
            )
        ),
        "tokens": sorted(ApiToken.objects.values_list("name", "revoked_at")),
        "invitations": sorted(Invitation.objects.values_list("email", "accepted_at")),
        "memberships": Membership.objects.count(),
        "tickets": sorted(
            Ticket.objects.values_list(
                "reference", "status", "priority", "assignee_id", "satisfaction_rating"
            )
        ),
        "comments": Comment.objects.count(),
        "events": TicketEvent.objects.count(),
        "feedback": ArticleFeedback.objects.count(),
        "mail": len(mail.outbox),
    }


# (who is signed in, url, form data)
FORMS = {
    "login": (
        None,
        "/accounts/login/",
        lambda w: {
            "login": "manager@acme.example",
            "password": "correct-horse-battery",
        },
    ),
    "signup": (
        None,
        "/accounts/signup/",
        lambda w: {
            "email": "someone@example.com",
            "password1": "a-Strong-pass-1",
            "password2": "a-Strong-pass-1",
        },
    ),
    "password reset": (
        None,
        "/accounts/password/reset/",
        lambda w: {"email": "manager@acme.example"},
    ),
    "kb feedback": (
        None,
        "/kb/feedback/{article}/",
        lambda w: {"helpful": "no", "comment": "forged"},
    ),
    "logout": ("manager", "/accounts/logout/", lambda w: {}),
    "password change": (
        "manager",
        "/accounts/password/change/",
        lambda w: {
            "oldpassword": "correct-horse-battery",
            "password1": "another-Strong-pass-2",
            "password2": "another-Strong-pass-2",
        },
    ),
    "add email": (
        "manager",
        "/accounts/email/",
        lambda w: {"action_add": "", "email": "forged@example.com"},
    ),
    "profile": (
        "manager",
        "/account/profile/",
        lambda w: {"display_name": "Forged", "locale": "en", "time_zone": "UTC"},
    ),
    "token create": (
        "manager",
        "/account/tokens/",
        lambda w: {"name": "forged", "scopes": ["read"]},
    ),
    "token revoke": ("manager", "/account/tokens/{token}/revoke/", lambda w: {}),
    "invite": (
        "manager",
        "/account/organizations/acme/",
        lambda w: {"email": "forged@example.com", "role": "member"},
    ),
    "invitation cancel": (
        "manager",
        "/account/organizations/acme/invitations/{invitation}/cancel/",
        lambda w: {},
    ),
    "invitation accept": (
        "invitee",
        "/account/invitations/{invitation_token}/",
        lambda w: {},
    ),
    "portal new ticket": (
        "manager",
        "/portal/tickets/new/",
        lambda w: {
            "subject": "Forged",
            "description": "x",
            "category": "other",
            "priority": "low",
        },
    ),
    "portal reply": (
        "manager",
        "/portal/tickets/{ticket_ref}/reply/",
        lambda w: {"body": "forged"},
    ),
    "portal status": (
        "manager",
        "/portal/tickets/{ticket_ref}/status/",
        lambda w: {"action": "withdraw"},
    ),
    "portal rating": (
        "manager",
        "/portal/tickets/{resolved_ref}/rate/",
        lambda w: {"rating": "1", "comment": "forged"},
    ),
    "desk reply": (
        "agent",
        "/admin/helpdesk/tickets/{ticket_ref}/comment/",
        lambda w: {"body": "forged"},
    ),
    "desk status": (
        "agent",
        "/admin/helpdesk/tickets/{ticket_ref}/status/",
        lambda w: {"status": "rejected", "reason": "forged"},
    ),
    "desk assign": (
        "agent",
        "/admin/helpdesk/tickets/{ticket_ref}/assign/",
        lambda w: {"self": "1"},
    ),
    "desk bulk": (
        "agent",
        "/admin/helpdesk/tickets/bulk/",
        lambda w: {
            "references": [w["ticket"].reference],
            "action": "priority",
            "priority": "critical",
        },
    ),
    "account approval (admin)": (
        "admin",
        "/admin/accounts/users/{pending}/",
        lambda w: {"action": "approve", "approve-reason": "ok"},
    ),
}


def _url(url, world):
    return url.format(
        article=world["article"].pk,
        token=world["token"].pk,
        invitation=world["invitation"].pk,
        invitation_token=world["invitation"].token,
        pending=world["pending"].pk,
        ticket_ref=world["ticket"].reference,
        resolved_ref=world["resolved"].reference,
    )


@pytest.mark.parametrize("name", list(FORMS))
def test_post_without_csrf_token_is_refused_and_changes_nothing(
    csrf_client, world, name
):
    who, url, data = FORMS[name]
    url = _url(url, world)
    if who:
        csrf_client.force_login(world[who])
    before = snapshot()

    response = csrf_client.post(url, data(world))

    assert response.status_code == 403
    assert "CSRF verification failed" in response.content.decode()
    assert snapshot() == before
    if who:
        assert csrf_client.session.get("_auth_user_id") == str(world[who].pk)
    else:
        assert csrf_client.session.get("_auth_user_id") is None


def test_the_same_form_with_its_token_goes_through(csrf_client, world):
    """The control: the refusals above come from CSRF, not from bad data."""
    csrf_client.force_login(world["manager"])
    page = csrf_client.get("/account/profile/")
    token = page.context["csrf_token"]
    response = csrf_client.post(
        "/account/profile/",
        {
            "display_name": "Renamed",
            "locale": "en",
            "time_zone": "UTC",
            "csrfmiddlewaretoken": str(token),
        },
    )
    assert response.status_code == 302
    world["manager"].refresh_from_db()
    assert world["manager"].display_name == "Renamed"


@pytest.mark.parametrize(
    "name",
    [
        "signup",
        "kb feedback",
        "token create",
        "invite",
        "portal new ticket",
        "portal reply",
        "portal status",
        "portal rating",
        "desk reply",
        "desk status",
        "desk assign",
        "desk bulk",
        "account approval (admin)",
    ],
)
def test_the_same_posts_change_data_when_csrf_is_not_enforced(client, world, name):
    """The control: the refusals above come from CSRF, not from bad form data."""
    who, url, data = FORMS[name]
    if who:
        client.force_login(world[who])
    before = snapshot()
    response = client.post(_url(url, world), data(world))
    assert response.status_code in (200, 302), response.content[:300]
    assert snapshot() != before
