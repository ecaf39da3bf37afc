from accounts.models import Membership, TicketSharing
from accounts.services import add_member, create_organization, remove_member


def test_membership_is_mirrored_in_the_organization_group(make_user):
    org = create_organization(
        name="Acme Inc",
        email_domains=[" ACME.example "],
        ticket_sharing=TicketSharing.READ,
    )
    assert org.slug == "acme-inc"
    assert org.email_domains == ["acme.example"]
    user = make_user("a@acme.example")
    add_member(org, user, Membership.Role.MANAGER)
    assert user.groups.filter(pk=org.group_id).exists()
    assert Membership.objects.get(user=user).role == "manager"
    add_member(org, user, Membership.Role.MEMBER)
    assert Membership.objects.filter(user=user).count() == 1
    assert Membership.objects.get(user=user).role == "member"
    assert remove_member(org, user) is True
    assert not user.groups.filter(pk=org.group_id).exists()
    assert remove_member(org, user) is False


def test_user_may_belong_to_several_organizations(make_user):
    a = create_organization(name="A")
    b = create_organization(name="B")
    user = make_user("x@example.com")
    add_member(a, user)
    add_member(b, user)
    assert sorted(user.memberships.values_list("organization__slug", flat=True)) == [
        "a",
        "b",
    ]
