"""Approval, rejection, lock and unlock in the Wagtail admin, and the audit listings."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail

from accounts import roles
from accounts.models import ApprovalStatus, SecurityEvent, User
from portal.notifications.models import SentNotification


@pytest.fixture
def admin_user(make_user):
    return make_user("admin@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def pending(make_user):
    return make_user("pending@example.com", approval_status=ApprovalStatus.PENDING)


def act(client, user, action, reason=""):
    return client.post(
        f"/admin/accounts/users/{user.pk}/",
        {"action": action, f"{action}-reason": reason},
        HTTP_USER_AGENT="staff-browser",
    )


@pytest.mark.django_db
def test_approvals_list_shows_pending_users(
    client, admin_user, make_user, django_assert_max_num_queries
):
    for i in range(5):
        make_user(f"p{i}@example.com", approval_status=ApprovalStatus.PENDING)
    make_user("ok@example.com")
    client.force_login(admin_user)
    with django_assert_max_num_queries(25):
        response = client.get("/admin/accounts/")
    assert response.status_code == 200
    assert [u.email for u in response.context["page"].object_list] == [
        f"p{i}@example.com" for i in range(5)
    ]
    assert "Account approvals" in response.content.decode()


@pytest.mark.django_db
def test_approve_emails_the_user_and_records_the_event(
    client, admin_user, pending, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = act(client, pending, "approve", "Known customer")

    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.approval_status == ApprovalStatus.APPROVED
    assert (pending.approved_by, pending.approval_note) == (
        admin_user,
        "Known customer",
    )
    [message] = mail.outbox
    assert message.to == ["pending@example.com"]
    assert message.subject == "Your Support Portal account has been approved"
    assert "Your account has been approved." in message.body
    event = SecurityEvent.objects.get(kind="approved")
    sent = SentNotification.objects.get()
    assert (sent.idempotency_key, sent.recipient, sent.status) == (
        f"security-event-{event.pk}:{pending.pk}:account_approved",
        pending,
        "sent",
    )
    assert (event.user, event.actor, event.ip, event.user_agent) == (
        pending,
        admin_user,
        "127.0.0.1",
        "staff-browser",
    )


@pytest.mark.django_db
def test_reject_needs_a_reason_and_keeps_an_audit_record(
    client, admin_user, pending, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    response = act(client, pending, "reject", "  ")
    assert response.status_code == 400
    pending.refresh_from_db()
    assert pending.approval_status == ApprovalStatus.PENDING
    assert SecurityEvent.objects.exclude(kind="login").count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        act(client, pending, "reject", "Not a customer of ours")

    pending.refresh_from_db()
    assert pending.approval_status == ApprovalStatus.REJECTED
    [message] = mail.outbox
    assert message.to == ["pending@example.com"]
    assert message.subject == "Your Support Portal account request"
    assert "Reason: Not a customer of ours" in message.body
    pending.delete()
    event = SecurityEvent.objects.get(kind="rejected")
    assert event.user is None
    assert event.data == {
        "reason": "Not a customer of ours",
        "email": "pending@example.com",
    }


@pytest.mark.django_db
def test_lock_and_unlock(
    client, admin_user, make_user, password, django_capture_on_commit_callbacks
):
    target = make_user("target@example.com")
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        assert act(client, target, "lock", "Spam").status_code == 302
    target.refresh_from_db()
    assert (target.lock_reason, target.locked_at is not None) == ("Spam", True)
    assert "locked" in mail.outbox[0].subject
    assert "Reason: Spam" in mail.outbox[0].body
    # through the notification outbox: a row written with the lock, then sent once
    assert list(
        SentNotification.objects.filter(recipient=target).values_list("kind", "status")
    ) == [("account_locked", "sent")]

    assert act(client, target, "lock", "Again").status_code == 400  # already locked

    with django_capture_on_commit_callbacks(execute=True):
        assert act(client, target, "unlock").status_code == 302
    target.refresh_from_db()
    assert target.locked_at is None
    assert [m.subject for m in mail.outbox] == [
        "Your account was locked",
        "Your account was unlocked",
    ]
    assert list(
        SecurityEvent.objects.filter(user=target)
        .order_by("pk")
        .values_list("kind", flat=True)
    ) == ["locked", "unlocked"]

    client.logout()
    client.post(
        "/accounts/login/", {"login": "target@example.com", "password": password}
    )
    assert client.session.get("_auth_user_id") == str(target.pk)


@pytest.mark.django_db
def test_lock_without_reason_changes_nothing(client, admin_user, make_user):
    target = make_user("target@example.com")
    client.force_login(admin_user)
    assert act(client, target, "lock", "").status_code == 400
    target.refresh_from_db()
    assert target.locked_at is None
    assert SecurityEvent.objects.exclude(kind="login").count() == 0


@pytest.mark.django_db
def test_staff_without_the_permission_cannot_review(client, make_user, pending):
    agent = make_user("agent@example.com", groups=[roles.AGENTS], is_staff=True)
    agent.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(agent)

    assert client.get("/admin/accounts/").status_code == 404
    assert client.get("/admin/accounts/security-events/").status_code == 404
    assert act(client, pending, "approve").status_code == 404
    pending.refresh_from_db()
    assert pending.approval_status == ApprovalStatus.PENDING
    assert "Account approvals" not in client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_staff_with_the_permission_can_review(client, make_user, pending):
    supervisor = make_user("sup@example.com", is_staff=True)
    supervisor.user_permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="review_accounts"),
    )
    client.force_login(supervisor)
    assert "Account approvals" in client.get("/admin/").content.decode()
    assert act(client, pending, "approve").status_code == 302
    assert User.objects.get(pk=pending.pk).approval_status == ApprovalStatus.APPROVED


@pytest.mark.django_db
def test_security_events_listing(
    client, admin_user, make_user, django_assert_max_num_queries
):
    for i in range(10):
        SecurityEvent.objects.create(
            kind="login", user=make_user(f"u{i}@example.com"), ip="10.0.0.1"
        )
    SecurityEvent.objects.create(kind="login_failed", ip="10.0.0.2")
    client.force_login(admin_user)
    with django_assert_max_num_queries(25):
        response = client.get("/admin/accounts/security-events/")
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 12  # and the admin's sign-in
    response = client.get("/admin/accounts/security-events/?kind=login_failed")
    assert [e.ip for e in response.context["page"].object_list] == ["10.0.0.2"]


@pytest.mark.django_db
def test_security_events_in_the_django_admin_are_read_only(client, admin_user):
    SecurityEvent.objects.create(kind="login", user=admin_user, ip="10.0.0.1")
    client.force_login(admin_user)
    assert client.get("/django-admin/accounts/securityevent/").status_code == 200
    assert client.get("/django-admin/accounts/securityevent/add/").status_code == 403
