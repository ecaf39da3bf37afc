"""me and organizations."""

import pytest

from accounts.models import Organization
from accounts.services import setup_member


def test_me_for_a_customer(alice, as_user, acme, globex):
    setup_member(globex, alice)
    data = as_user(alice)("{ me { email displayName organizations { name slug } } }")
    assert data == {
        "me": {
            "email": "alice@acme.example",
            "displayName": "Alice",
            "organizations": [
                {"name": "Acme", "slug": "acme"},
                {"name": "Globex", "slug": "globex"},
            ],
        }
    }


def test_display_name_falls_back_to_the_email(carol, as_user):
    data = as_user(carol)("{ me { displayName } }")
    assert data == {"me": {"displayName": "carol@globex.example"}}


def test_customer_sees_only_their_organizations(alice, carol, as_user):
    assert as_user(alice)("{ organizations { slug } }") == {
        "organizations": [{"slug": "acme"}]
    }
    assert as_user(carol)("{ organizations { slug } }") == {
        "organizations": [{"slug": "globex"}]
    }


def test_staff_see_every_organization(agent, acme, globex, as_user):
    assert as_user(agent)("{ organizations { slug } }") == {
        "organizations": [{"slug": "acme"}, {"slug": "globex"}]
    }


def test_anonymous_sees_no_organizations(acme, anon):
    assert anon("{ organizations { slug } }") == {"organizations": []}


def test_organizations_cost_one_query(
    agent, acme, globex, as_user, django_assert_max_num_queries
):
    gql = as_user(agent)
    # token lookup, token touch, groups, organizations
    with django_assert_max_num_queries(4):
        gql("{ organizations { slug name } }")


def test_organizations_are_capped_at_100_a_call(
    agent, acme, as_user, django_assert_max_num_queries
):
    Organization.objects.bulk_create(
        Organization(name=f"Org {i:03}", slug=f"org-{i:03}") for i in range(101)
    )
    gql = as_user(agent)
    gql("{ ping }")  # the token's first use records last_used_at
    with django_assert_max_num_queries(3):
        first = gql("{ organizations { slug } }")["organizations"]
    assert len(first) == 100
    assert first[0] == {"slug": "acme"}
    rest = gql("{ organizations(offset: 100) { slug } }")["organizations"]
    assert rest == [{"slug": "org-099"}, {"slug": "org-100"}]
    assert gql("{ organizations(first: 2, offset: 1) { slug } }") == {
        "organizations": [{"slug": "org-000"}, {"slug": "org-001"}]
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: 101", "'first' must be between 0 and 100."),
        ("first: -1", "'first' must be between 0 and 100."),
        ("offset: -1", "'offset' must be 0 or more."),
    ],
)
def test_organizations_out_of_range_is_a_clear_error(
    agent, acme, as_user, arguments, message
):
    errors = as_user(agent).errors(f"{{ organizations({arguments}) {{ slug }} }}")
    assert [(e["message"], e["extensions"]) for e in errors] == [
        (message, {"code": "PAGE_SIZE"})
    ]
