"""Organization membership and ticket sharing: services with an actor, a permission
check, an audit event and a domain signal; tickets moves its grants in the same
transaction (its receiver), and accounts never imports tickets.

Over 400 lines on purpose: one table of membership and sharing changes per actor, each
with its refusal twin.
"""

import ast
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied

from accounts import signals
from accounts.models import Membership, Organization, SecurityEvent, TicketSharing
from accounts.services import (
    AccountError,
    AccountErrorCode,
    add_member,
    change_role,
    change_ticket_sharing,
    create_organization,
    remove_member,
    setup_member,
)
from tickets import permissions as ticket_permissions
from tickets.models import TicketGroupObjectPermission
from tickets.tests.factories import (
    QueueFactory,
    TicketFactory,
    UserFactory,
    make_agent,
    make_customer,
    make_supervisor,
    make_viewer,
)

Kind = SecurityEvent.Kind
ORG_KINDS = [
    Kind.MEMBER_ADDED,
    Kind.MEMBER_REMOVED,
    Kind.ROLE_CHANGED,
    Kind.SHARING_CHANGED,
]

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(db):
    return create_organization(
        name="Acme", email_domains=["acme.example"], ticket_sharing=TicketSharing.READ
    )


@pytest.fixture
def manager(acme):
    return make_customer(acme, role=Membership.Role.MANAGER, email="m@acme.example")


@pytest.fixture
def alice(acme):
    return make_customer(acme, email="alice@acme.example")


@pytest.fixture
def bob(acme):
    return make_customer(acme, email="bob@acme.example")


@pytest.fixture
def queue(db):
    return QueueFactory(slug="support")


@pytest.fixture
def ticket(alice, acme, queue):
    return TicketFactory(requester=alice, queue=queue, organization=acme)


@pytest.fixture
def sent():
    """The domain signals received, as plain dicts (a real receiver)."""
    received = []

    def _membership(sender, **kwargs):
        kwargs.pop("signal")
        received.append(("membership", kwargs))

    def _sharing(sender, **kwargs):
        kwargs.pop("signal")
        received.append(("sharing", kwargs))

    signals.membership_changed.connect(_membership, dispatch_uid="test.m")
    signals.sharing_changed.connect(_sharing, dispatch_uid="test.s")
    yield received
    signals.membership_changed.disconnect(dispatch_uid="test.m")
    signals.sharing_changed.disconnect(dispatch_uid="test.s")


def org_events():
    return list(SecurityEvent.objects.filter(kind__in=ORG_KINDS).order_by("pk"))


def sharing_events():
    return list(SecurityEvent.objects.filter(kind=Kind.SHARING_CHANGED))


def sees(user, ticket) -> bool:
    user = type(user).objects.get(pk=user.pk)  # fresh group cache
    return ticket_permissions.visible_tickets(user).filter(pk=ticket.pk).exists()


def member_role(organization, user):
    membership = Membership.objects.filter(organization=organization, user=user).first()
    return membership.role if membership else None


def test_setup_member_mirrors_membership_in_the_organization_group(make_user):
    org = create_organization(
        name="Acme Inc", email_domains=[" ACME.example "], ticket_sharing="read"
    )
    assert org.slug == "acme-inc"
    assert org.email_domains == ["acme.example"]
    user = make_user("a@acme.example")
    setup_member(org, user, Membership.Role.MANAGER)
    assert user.groups.filter(pk=org.group_id).exists()
    assert member_role(org, user) == "manager"
    event = SecurityEvent.objects.get(kind=Kind.MEMBER_ADDED)
    assert (event.user, event.actor, event.data["via"]) == (user, None, "setup")


def test_user_may_belong_to_several_organizations(make_user):
    a = create_organization(name="A")
    b = create_organization(name="B")
    user = make_user("x@example.com")
    setup_member(a, user)
    setup_member(b, user)
    assert sorted(user.memberships.values_list("organization__slug", flat=True)) == [
        "a",
        "b",
    ]


# --- who may ------------------------------------------------------------------------


def _allowed(kind, acme, manager):
    return {
        "manager": manager,
        "supervisor": make_supervisor(email="sup@example.com"),
        "admin": UserFactory(email="root@example.com", is_superuser=True),
    }[kind]


def _denied(kind, acme, queue):
    return {
        "member": make_customer(acme, email="plain@acme.example"),
        "agent": make_agent(queue, email="agent@example.com"),
        "viewer": make_viewer(email="viewer@example.com"),
        "other_manager": make_customer(
            create_organization(name="Globex"),
            role=Membership.Role.MANAGER,
            email="boss@globex.example",
        ),
        "locked_manager": make_customer(
            acme, role=Membership.Role.MANAGER, email="gone@acme.example"
        ),
    }[kind]


@pytest.mark.parametrize("who", ["manager", "supervisor", "admin"])
def test_allowed_people_add_change_and_remove_members(acme, manager, who, sent):
    by = _allowed(who, acme, manager)
    newcomer = make_customer(email="new@acme.example")
    sent.clear()

    add_member(acme, newcomer, role=Membership.Role.MEMBER, by=by)
    assert member_role(acme, newcomer) == "member"
    assert newcomer.groups.filter(pk=acme.group_id).exists()

    change_role(acme, newcomer, role=Membership.Role.MANAGER, by=by)
    assert member_role(acme, newcomer) == "manager"

    assert remove_member(acme, newcomer, by=by) is True
    assert member_role(acme, newcomer) is None
    assert not newcomer.groups.filter(pk=acme.group_id).exists()

    assert [
        (e.kind, e.user, e.actor, e.data["old_role"], e.data["new_role"])
        for e in org_events()
        if e.user == newcomer
    ] == [
        (Kind.MEMBER_ADDED, newcomer, by, None, "member"),
        (Kind.ROLE_CHANGED, newcomer, by, "member", "manager"),
        (Kind.MEMBER_REMOVED, newcomer, by, "manager", None),
    ]
    assert sent == [
        (
            "membership",
            {
                "organization_id": acme.pk,
                "user_id": newcomer.pk,
                "old_role": old,
                "new_role": new,
                "actor_id": by.pk,
            },
        )
        for old, new in [(None, "member"), ("member", "manager"), ("manager", None)]
    ]


@pytest.mark.parametrize(
    "who", ["member", "agent", "viewer", "other_manager", "locked_manager"]
)
def test_others_may_not_change_members_and_nothing_changes(acme, queue, who, sent):
    by = _denied(who, acme, queue)
    if who == "locked_manager":
        from django.utils import timezone

        by.locked_at = timezone.now()
        by.save(update_fields=["locked_at"])
    newcomer = make_customer(email="new@acme.example")
    colleague = make_customer(acme, email="colleague@acme.example")
    before = org_events()
    sent.clear()

    with pytest.raises(PermissionDenied):
        add_member(acme, newcomer, role=Membership.Role.MEMBER, by=by)
    with pytest.raises(PermissionDenied):
        change_role(acme, colleague, role=Membership.Role.MANAGER, by=by)
    with pytest.raises(PermissionDenied):
        remove_member(acme, colleague, by=by)

    assert member_role(acme, newcomer) is None
    assert not newcomer.groups.filter(pk=acme.group_id).exists()
    assert member_role(acme, colleague) == "member"
    assert colleague.groups.filter(pk=acme.group_id).exists()
    assert org_events() == before
    assert sent == []


def test_bad_membership_input_is_refused(acme, manager, alice):
    stranger = make_customer(email="s@example.com")
    before = org_events()
    with pytest.raises(AccountError) as member:
        add_member(acme, alice, by=manager)  # already a member
    with pytest.raises(AccountError) as role:
        add_member(acme, stranger, role="owner", by=manager)
    with pytest.raises(AccountError) as stranger_role:
        change_role(acme, stranger, role="manager", by=manager)  # not a member
    assert [
        (error.value.code, str(error.value)) for error in (member, role, stranger_role)
    ] == [
        (AccountErrorCode.ALREADY_MEMBER, "alice@acme.example is already a member."),
        (AccountErrorCode.UNKNOWN_ROLE, "Unknown role."),
        (AccountErrorCode.NOT_A_MEMBER, "s@example.com is not a member."),
    ]
    assert remove_member(acme, stranger, by=manager) is False
    assert member_role(acme, stranger) is None
    assert member_role(acme, alice) == "member"
    assert org_events() == before


# --- grants follow ------------------------------------------------------------------


def test_removing_a_member_takes_away_their_colleagues_tickets(
    acme, manager, bob, ticket
):
    assert sees(bob, ticket)
    remove_member(acme, bob, by=manager)
    assert not sees(bob, ticket)
    add_member(acme, bob, by=manager)
    assert sees(bob, ticket)


def test_refused_removal_leaves_access(acme, bob, alice, ticket):
    with pytest.raises(PermissionDenied):
        remove_member(acme, bob, by=alice)
    assert sees(bob, ticket)


@pytest.mark.parametrize("who", ["manager", "supervisor", "admin"])
def test_changing_sharing_moves_grants_and_is_audited(
    acme, manager, bob, ticket, who, sent
):
    by = _allowed(who, acme, manager)
    sent.clear()
    assert sees(bob, ticket)
    assert not ticket_permissions.can(bob, "reply", ticket)

    change_ticket_sharing(acme, TicketSharing.NONE, by=by)
    assert Organization.objects.get(pk=acme.pk).ticket_sharing == "none"
    assert not sees(bob, ticket)
    assert not TicketGroupObjectPermission.objects.filter(group=acme.group).exists()

    change_ticket_sharing(acme, TicketSharing.READ_WRITE, by=by)
    assert sees(bob, ticket)
    fresh_ticket = type(ticket).objects.get(pk=ticket.pk)
    fresh_bob = type(bob).objects.get(pk=bob.pk)
    assert ticket_permissions.can(fresh_bob, "reply", fresh_ticket)

    assert [
        (e.kind, e.user, e.actor, e.data["old"], e.data["new"], e.data["organization"])
        for e in org_events()
        if e.kind == Kind.SHARING_CHANGED
    ] == [
        (Kind.SHARING_CHANGED, None, by, "read", "none", acme.pk),
        (Kind.SHARING_CHANGED, None, by, "none", "read_write", acme.pk),
    ]
    assert sent == [
        ("sharing", {"organization_id": acme.pk, "old": o, "new": n, "actor_id": by.pk})
        for o, n in [("read", "none"), ("none", "read_write")]
    ]


@pytest.mark.parametrize(
    "who", ["member", "agent", "viewer", "other_manager", "locked_manager"]
)
def test_others_may_not_change_sharing_and_nothing_changes(
    acme, queue, bob, ticket, who, sent
):
    by = _denied(who, acme, queue)
    if who == "locked_manager":
        from django.utils import timezone

        by.locked_at = timezone.now()
        by.save(update_fields=["locked_at"])
    grants = set(
        TicketGroupObjectPermission.objects.values_list("group_id", "permission_id")
    )
    sent.clear()

    with pytest.raises(PermissionDenied):
        change_ticket_sharing(acme, TicketSharing.NONE, by=by)

    assert Organization.objects.get(pk=acme.pk).ticket_sharing == "read"
    assert sees(bob, ticket)
    assert grants == set(
        TicketGroupObjectPermission.objects.values_list("group_id", "permission_id")
    )
    assert sharing_events() == []
    assert sent == []


def test_unknown_sharing_is_refused(acme, manager, bob, ticket):
    with pytest.raises(AccountError):
        change_ticket_sharing(acme, "everyone", by=manager)
    assert Organization.objects.get(pk=acme.pk).ticket_sharing == "read"
    assert sees(bob, ticket)
    assert sharing_events() == []


def test_grants_move_in_the_same_transaction_as_the_sharing_change(
    acme, manager, bob, ticket
):
    """A receiver failing after tickets moved the grants undoes everything: the
    sharing, the grants and the audit event."""

    def broken(sender, **kwargs):
        raise RuntimeError("listener failed")

    signals.sharing_changed.connect(broken, dispatch_uid="test.broken")
    try:
        with pytest.raises(RuntimeError):
            change_ticket_sharing(acme, TicketSharing.NONE, by=manager)
    finally:
        signals.sharing_changed.disconnect(dispatch_uid="test.broken")
    assert Organization.objects.get(pk=acme.pk).ticket_sharing == "read"
    assert sees(bob, ticket)
    assert sharing_events() == []


# --- joins nobody decides, and the admin ------------------------------------------


def test_joining_through_a_verified_email_domain_is_audited(acme, make_user):
    from accounts.services import join_organizations_by_email

    user = make_user("newcomer@acme.example")
    assert [m.organization for m in join_organizations_by_email(user, user.email)] == [
        acme
    ]
    event = SecurityEvent.objects.get(kind=Kind.MEMBER_ADDED, user=user)
    assert (event.actor, event.data["via"], event.data["new_role"]) == (
        None,
        "email_domain",
        "member",
    )


def _admin_form(org, membership):
    return {
        "name": org.name,
        "slug": org.slug,
        "email_domains": '["acme.example"]',
        "ticket_sharing": org.ticket_sharing,
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": str(membership.pk),
        "memberships-0-user": str(membership.user_id),
        "memberships-0-role": membership.role,
        "memberships-0-organization": str(org.pk),
    }


def test_admin_role_change_goes_through_the_service(acme, alice, admin_user, client):
    client.force_login(admin_user)
    membership = Membership.objects.get(organization=acme, user=alice)
    data = _admin_form(acme, membership)
    data["memberships-0-role"] = "manager"
    response = client.post(
        f"/django-admin/accounts/organization/{acme.pk}/change/", data
    )
    assert response.status_code == 302
    assert member_role(acme, alice) == "manager"
    event = SecurityEvent.objects.get(kind=Kind.ROLE_CHANGED, user=alice)
    assert (event.actor, event.data["old_role"]) == (admin_user, "member")


def test_admin_staff_who_may_not_manage_members_change_nothing(
    acme, alice, bob, ticket, client
):
    """Django's model permission opens the admin form; the service still decides."""
    from django.contrib.auth.models import Permission

    clerk = UserFactory(email="clerk@example.com", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="accounts",
            codename__in=["view_organization", "change_organization"]
            + ["add_membership", "change_membership", "delete_membership"],
        )
    )
    client.force_login(clerk)
    membership = Membership.objects.get(organization=acme, user=alice)
    data = _admin_form(acme, membership)
    data["memberships-0-role"] = "manager"
    data["ticket_sharing"] = "none"
    data["name"] = "Renamed"
    response = client.post(
        f"/django-admin/accounts/organization/{acme.pk}/change/", data
    )
    assert response.status_code == 403
    acme.refresh_from_db()
    assert (acme.name, acme.ticket_sharing) == ("Acme", "read")
    assert member_role(acme, alice) == "member"
    assert sees(bob, ticket)
    assert org_events() == [e for e in org_events() if e.kind == Kind.MEMBER_ADDED]

    # the same clerk as a supervisor: the same post goes through (the 403 above was
    # the service's check, not the admin's door)
    from django.contrib.auth.models import Group

    clerk.groups.add(Group.objects.get(name="Supervisors"))
    response = client.post(
        f"/django-admin/accounts/organization/{acme.pk}/change/", data
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.name, acme.ticket_sharing) == ("Renamed", "none")
    assert member_role(acme, alice) == "manager"
    assert not sees(bob, ticket)


# --- the dependency -----------------------------------------------------------------


def test_accounts_does_not_import_tickets():
    """tickets listens to accounts' signals; accounts never imports tickets (not even
    inside a function)."""
    root = Path(__file__).resolve().parents[1]
    offenders = []
    for path in root.rglob("*.py"):
        if "tests" in path.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [
                f"{path.name}:{node.lineno} {n}"
                for n in names
                if n == "tickets" or n.startswith("tickets.")
            ]
    assert offenders == []
