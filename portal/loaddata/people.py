"""Organizations, customers and agents, shaped like the rows the accounts services
write: each organization owns an ``org:<slug>`` group mirroring its members, customers
are in the Customers role group, agents in the Agents role group."""

import random
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import accumulate

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import roles
from accounts.models import Membership, Organization, TicketSharing, User
from accounts.services import organization_group_name

DOMAIN = "load.example"
PASSWORD = "load-password-123"  # noqa: S105 - the documented password of generated users

SHARING_WEIGHTS = {
    TicketSharing.NONE: 50,
    TicketSharing.READ: 30,
    TicketSharing.READ_WRITE: 20,
}


@dataclass
class Org:
    id: int
    slug: str
    group_id: int
    sharing: str
    members: list[int] = field(default_factory=list)


@dataclass
class People:
    organizations: list[Org]
    customers: list[int]
    customer_orgs: dict[int, list[Org]]
    agents: list[int]
    password: str = PASSWORD

    @property
    def big_org(self) -> Org:
        """The first organization: it shares tickets and gets the most of them."""
        return self.organizations[0]


def customer_email(n: int) -> str:
    return f"customer{n}@{DOMAIN}"


def agent_email(n: int) -> str:
    return f"agent{n}@{DOMAIN}"


def create_people(
    writer,
    rng: random.Random,
    *,
    organizations: int,
    customers: int,
    agents: int,
    bar,
) -> People:
    now = timezone.now()
    password_hash = make_password(PASSWORD)
    role_groups = dict(
        Group.objects.filter(name__in=[roles.CUSTOMERS, roles.AGENTS]).values_list(
            "name", "id"
        )
    )

    # Organizations and their permission groups.
    org_ids = writer.reserve_ids(Organization, organizations)
    group_ids = writer.reserve_ids(Group, organizations)
    orgs = []
    for i, (org_id, group_id) in enumerate(zip(org_ids, group_ids, strict=True)):
        sharing = (
            TicketSharing.READ_WRITE
            if i == 0
            else rng.choices(list(SHARING_WEIGHTS), list(SHARING_WEIGHTS.values()))[0]
        )
        orgs.append(Org(org_id, f"load-org-{i}", group_id, str(sharing)))
    writer.insert(
        Group,
        ["id", "name"],
        (
            (o.group_id, organization_group_name(Organization(slug=o.slug)))
            for o in orgs
        ),
    )
    writer.insert(
        Organization,
        [
            "id",
            "name",
            "slug",
            "email_domains",
            "ticket_sharing",
            "group_id",
            "created_at",
        ],
        (
            (o.id, f"Load Org {i}", o.slug, [], o.sharing, o.group_id, now)
            for i, o in enumerate(orgs)
        ),
    )
    bar.update(organizations)

    # Customers: the big organization gets a team, the rest are spread with a long tail;
    # one in twenty customers belongs to a second organization.
    customer_ids = list(writer.reserve_ids(User, customers))
    customer_orgs: dict[int, list[Org]] = {}
    big_team = min(len(customer_ids), max(2, customers // 50))
    others = orgs[1:]
    cum_weights = list(accumulate(1 / (k + 1) ** 0.8 for k in range(len(others))))
    for n, user_id in enumerate(customer_ids):
        if n < big_team or not others:
            first = orgs[0]
        else:
            first = rng.choices(others, cum_weights=cum_weights)[0]
        chosen = [first]
        if organizations > 2 and rng.random() < 0.05:
            second = rng.choice(orgs[1:])
            if second is not first:
                chosen.append(second)
        customer_orgs[user_id] = chosen
        for org in chosen:
            org.members.append(user_id)
    agent_ids = list(writer.reserve_ids(User, agents))

    user_fields = [
        "id",
        "password",
        "is_superuser",
        "is_staff",
        "is_active",
        "date_joined",
        "first_name",
        "last_name",
        "email",
        "display_name",
        "locale",
        "time_zone",
        "notify_on_reply",
        "notify_on_status",
    ]

    def user_rows():
        for n, user_id in enumerate(customer_ids):
            joined = now - timedelta(days=rng.randint(1, 900))
            yield (
                user_id, password_hash, False, False, True, joined,
                f"Customer{n}", "Load", customer_email(n), "", "", "", True, True,
            )  # fmt: skip
        for n, user_id in enumerate(agent_ids):
            yield (
                user_id, password_hash, False, True, True, now - timedelta(days=900),
                f"Agent{n}", "Load", agent_email(n), "", "", "", True, True,
            )  # fmt: skip

    writer.insert(User, user_fields, user_rows(), progress=bar)

    emails = [(uid, customer_email(n)) for n, uid in enumerate(customer_ids)] + [
        (uid, agent_email(n)) for n, uid in enumerate(agent_ids)
    ]
    writer.insert(
        EmailAddress,
        ["id", "user_id", "email", "verified", "primary"],
        (
            (pk, uid, email, True, True)
            for pk, (uid, email) in zip(
                writer.reserve_ids(EmailAddress, len(emails)), emails, strict=True
            )
        ),
    )

    memberships = [(uid, org.id) for uid, os in customer_orgs.items() for org in os]
    writer.insert(
        Membership,
        ["id", "user_id", "organization_id", "role", "created_at"],
        (
            (pk, uid, org_id, Membership.Role.MEMBER.value, now)
            for pk, (uid, org_id) in zip(
                writer.reserve_ids(Membership, len(memberships)),
                memberships,
                strict=True,
            )
        ),
    )

    user_groups = [
        (uid, org.group_id) for uid, os in customer_orgs.items() for org in os
    ]
    if roles.CUSTOMERS in role_groups:
        user_groups += [(uid, role_groups[roles.CUSTOMERS]) for uid in customer_ids]
    if roles.AGENTS in role_groups:
        user_groups += [(uid, role_groups[roles.AGENTS]) for uid in agent_ids]
    add_user_groups(writer, user_groups)
    return People(orgs, customer_ids, customer_orgs, agent_ids)


def add_user_groups(writer, pairs: list[tuple[int, int]]) -> None:
    through = User.groups.through
    writer.insert(
        through,
        ["id", "user_id", "group_id"],
        (
            (pk, uid, gid)
            for pk, (uid, gid) in zip(
                writer.reserve_ids(through, len(pairs)), pairs, strict=True
            )
        ),
    )
