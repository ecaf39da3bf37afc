import re

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Invitation, Membership, SecurityEvent
from accounts.services import create_organization, setup_member
from portal.notifications.models import SentNotification
from portal.notifications.tasks import send_to_address_task

PASSWORD = "a-Strong-pass-1"


@pytest.fixture
def acme(db):
    return create_organization(name="Acme", email_domains=["acme.example"])


@pytest.fixture
def manager(make_user, acme):
    user = make_user("alice@acme.example")
    setup_member(acme, user, Membership.Role.MANAGER)
    return user


def invite(client, email="newbie@elsewhere.example", role="member"):
    return client.post("/account/organizations/acme/", {"email": email, "role": role})


def invitation_path(message) -> str:
    return re.search(r"http://testserver(/account/invitations/\S+/)", message.body)[1]


@pytest.mark.django_db
def test_manager_sees_members_and_invites(
    client,
    manager,
    make_user,
    acme,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    for i in range(5):
        setup_member(acme, make_user(f"m{i}@acme.example"))
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        response = client.get("/account/organizations/acme/")
    assert response.status_code == 200
    assert [m.user.email for m in response.context["members"]] == [
        "alice@acme.example",  # managers first
        *[f"m{i}@acme.example" for i in range(5)],
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, "Newbie@Elsewhere.example", "manager")

    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "newbie@elsewhere.example",
        "manager",
        manager,
    )
    [message] = mail.outbox
    assert message.to == ["newbie@elsewhere.example"]
    assert message.subject == "You are invited to join Acme on Support Portal"
    assert message.body.startswith(
        "alice@acme.example invited newbie@elsewhere.example to join the organization "
        "Acme."
    )
    assert f"it expires on {invitation.expires_at.date().isoformat()}:" in message.body
    assert invitation_path(message) == f"/account/invitations/{invitation.token}/"
    sent = SentNotification.objects.get()
    assert (sent.kind, sent.to_email, sent.recipient, sent.status) == (
        "organization_invitation",
        "newbie@elsewhere.example",
        None,
        "sent",
    )
    assert sent.idempotency_key.startswith(f"invitation-{invitation.pk}:")

    # the job may run twice (a worker retry): still one email
    send_to_address_task(
        "organization_invitation",
        "newbie@elsewhere.example",
        context={},
        idempotency_key=sent.idempotency_key,
    )
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_members_and_outsiders_cannot_see_or_invite(client, manager, make_user, acme):
    member = make_user("bob@acme.example")
    setup_member(acme, member)
    outsider = make_user("eve@example.com")
    for user in [member, outsider]:
        client.force_login(user)
        assert client.get("/account/organizations/acme/").status_code == 404
        assert invite(client).status_code == 404
    assert Invitation.objects.count() == 0
    assert len(mail.outbox) == 0


@pytest.mark.django_db
def test_inviting_an_existing_member_is_a_form_error(client, manager):
    client.force_login(manager)
    response = invite(client, "alice@acme.example")
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert Invitation.objects.count() == 0


@pytest.mark.django_db
def test_invitee_with_matching_verified_email_accepts(
    client, manager, make_user, acme, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, "newbie@elsewhere.example")
    path = invitation_path(mail.outbox[0])
    invitee = make_user("newbie@elsewhere.example")
    client.force_login(invitee)

    assert "Accept the invitation" in client.get(path).content.decode()
    response = client.post(path)

    assert response.status_code == 302
    membership = Membership.objects.get(user=invitee)
    assert membership.organization == acme and membership.role == "member"
    assert invitee.groups.filter(pk=acme.group_id).exists()
    assert Invitation.objects.get().accepted_by == invitee
    joined = SecurityEvent.objects.get(
        kind=SecurityEvent.Kind.MEMBER_ADDED, user=invitee
    )
    assert joined.actor is None  # the invitee themself
    assert joined.data["via"] == f"invitation:{Invitation.objects.get().pk}"
    assert joined.data["organization"] == acme.pk
    response = client.post(path)  # used up
    assert Membership.objects.filter(user=invitee).count() == 1
    assert SecurityEvent.objects.filter(kind="member_added", user=invitee).count() == 1


@pytest.mark.django_db
def test_someone_else_cannot_accept(client, manager, make_user, acme):
    invitation = Invitation.objects.create(
        organization=acme,
        email="newbie@elsewhere.example",
        token="tok",
        invited_by=manager,
        expires_at=timezone.now() + timezone.timedelta(days=1),
    )
    intruder = make_user("intruder@example.com")
    unverified = make_user("newbie@elsewhere.example", verified=False)
    for user in [intruder, unverified]:
        client.force_login(user)
        client.post(f"/account/invitations/{invitation.token}/")
    assert Membership.objects.filter(organization=acme).count() == 1  # the manager
    assert not SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.MEMBER_ADDED, user__in=[intruder, unverified]
    ).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


@pytest.mark.django_db
def test_expired_and_unknown_invitations(client, manager, make_user, acme):
    invitation = Invitation.objects.create(
        organization=acme,
        email="late@example.com",
        token="old",
        invited_by=manager,
        expires_at=timezone.now() - timezone.timedelta(seconds=1),
    )
    client.force_login(make_user("late@example.com"))
    assert "expired" in client.get("/account/invitations/old/").content.decode()
    client.post("/account/invitations/old/")
    assert not Membership.objects.filter(user__email="late@example.com").exists()
    assert invitation.accepted_at is None
    assert client.get("/account/invitations/nope/").status_code == 404


@pytest.mark.django_db
def test_invitee_signs_up_with_the_invited_address_and_accepts(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, "fresh@elsewhere.example")
    path = invitation_path(mail.outbox[0])
    client.logout()

    page = client.get(path).content.decode()
    assert "Create an account" in page
    response = client.post(
        f"/accounts/signup/?next={path}",
        {
            "email": "fresh@elsewhere.example",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": path,
        },
    )
    confirm = re.search(
        r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[-1].body
    )[1]
    response = client.post(confirm)
    assert response.status_code == 302
    assert response["Location"] == path

    response = client.post(path)

    assert response.status_code == 302
    assert Membership.objects.filter(
        user__email="fresh@elsewhere.example", organization__slug="acme"
    ).exists()


@pytest.mark.django_db
def test_manager_withdraws_an_invitation(client, manager, acme):
    client.force_login(manager)
    invite(client)
    invitation = Invitation.objects.get()
    response = client.post(
        f"/account/organizations/acme/invitations/{invitation.pk}/cancel/"
    )
    assert response.status_code == 302
    assert Invitation.objects.count() == 0


@pytest.mark.django_db
def test_invitations_past_the_limit_answer_429_and_invite_nobody(
    client, manager, settings
):
    """Each invitation emails an address the manager typed: a manager cannot make the
    site mail strangers without limit."""
    settings.PORTAL_RATE_LIMITS = {"organization_invite": "3/h"}
    client.force_login(manager)
    for number in range(3):
        assert invite(client, f"n{number}@elsewhere.example").status_code == 302

    response = invite(client, "n9@elsewhere.example")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "n0@elsewhere.example",
        "n1@elsewhere.example",
        "n2@elsewhere.example",
    ]
    assert client.get("/account/organizations/acme/").status_code == 200  # reading
