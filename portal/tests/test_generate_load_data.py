"""The load-data generator writes the rows the services would write."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from accounts import roles
from accounts.models import Membership, Organization, TicketSharing, User
from accounts.services import organization_group_name
from bench.generator import Sizes, generate
from bench.generator.people import PASSWORD


def _sizes(**overrides):
    values = {
        "articles": 0,
        "tickets": 0,
        "organizations": 4,
        "customers": 30,
        "agents": 3,
        "queues": 2,
        "seed": 7,
    }
    return Sizes(**(values | overrides))


@pytest.mark.django_db
def test_people_match_what_the_accounts_services_write():
    result = generate(_sizes(), progress=False)

    assert Organization.objects.count() == 4
    for org in Organization.objects.select_related("group"):
        assert org.group.name == organization_group_name(org)
        members = set(org.memberships.values_list("user_id", flat=True))
        assert set(org.group.user_set.values_list("id", flat=True)) == members
    assert Organization.objects.get(pk=result.people.big_org.id).ticket_sharing == (
        TicketSharing.READ_WRITE
    )
    customers = User.objects.filter(pk__in=result.people.customers)
    assert customers.count() == 30
    assert set(
        Group.objects.get(name=roles.CUSTOMERS).user_set.values_list("id", flat=True)
    ) == set(result.people.customers)
    assert set(
        Group.objects.get(name=roles.AGENTS).user_set.values_list("id", flat=True)
    ) == set(result.people.agents)
    assert User.objects.filter(pk__in=result.people.agents, is_staff=True).count() == 3
    assert not Membership.objects.filter(user_id__in=result.people.agents).exists()
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == 33


@pytest.mark.django_db
def test_generated_users_can_sign_in_with_the_documented_password(client):
    result = generate(_sizes(), progress=False)
    user = User.objects.get(pk=result.people.customers[0])

    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_ids_continue_after_existing_rows_and_sequences_follow(make_user):
    existing = make_user("someone@example.com")

    result = generate(_sizes(), progress=False)
    later = make_user("later@example.com")

    assert min(result.people.customers) > existing.pk
    assert later.pk > max(result.people.agents)


@pytest.mark.django_db
def test_command_refuses_to_generate_twice_and_writes_nothing_more():
    call_command(
        "generate_load_data",
        "--organizations=2",
        "--customers=5",
        "--agents=1",
        "--tickets=0",
        "--articles=0",
        "--no-progress",
    )
    users = User.objects.count()

    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "generate_load_data",
            "--organizations=2",
            "--customers=5",
            "--agents=1",
            "--tickets=0",
            "--articles=0",
            "--no-progress",
        )

    assert User.objects.count() == users


@pytest.mark.django_db
def test_command_rejects_an_empty_population():
    with pytest.raises(CommandError, match="At least one"):
        call_command("generate_load_data", "--organizations=0", "--no-progress")

    assert not User.objects.exists()
