"""me and organizations."""

from accounts.services import add_member


def test_me_for_a_customer(alice, as_user, acme, globex):
    add_member(globex, alice)
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
