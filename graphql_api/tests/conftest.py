"""Fixtures for the GraphQL tests: callers of every kind and a small request helper."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accounts import roles
from accounts.services import create_organization, setup_member
from accounts.tokens import create_token

URL = "/graphql/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


def schema_errors(document: str) -> list[str]:
    """The schema validation errors of ``document`` (graphql-core's standard rules)."""
    from graphql import parse, validate

    from graphql_api.schema import schema

    return [error.message for error in validate(schema._schema, parse(document))]


class Gql:
    """Posts GraphQL operations the way an integrator would."""

    def __init__(self, client: Client, secret: str | None = None):
        self.client = client
        self.secret = secret

    def headers(self):
        return {"Authorization": f"Bearer {self.secret}"} if self.secret else {}

    def post(self, query, variables=None, **extra):
        return self.client.post(
            URL,
            {"query": query, "variables": variables or {}},
            content_type="application/json",
            headers={**self.headers(), **extra.pop("headers", {})},
            **extra,
        )

    def __call__(self, query, variables=None):
        """Data of a successful operation; fails the test on HTTP or GraphQL errors."""
        response = self.post(query, variables)
        assert response.status_code == 200, response.content
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def errors(self, query, variables=None, *, invalid=False):
        """The errors of a refused operation. The document must pass the schema's
        validation unless ``invalid``: one that does not never reaches its resolvers,
        so a test of what a resolver refuses would pass on it without testing it."""
        if not invalid:
            assert schema_errors(query) == [], "the document fails validation"
        response = self.post(query, variables)
        assert response.status_code == 200, response.content
        return response.json()["errors"]


@pytest.fixture
def acme(db):
    return create_organization(name="Acme", slug="acme", ticket_sharing="read_write")


@pytest.fixture
def globex(db):
    return create_organization(name="Globex", slug="globex")


@pytest.fixture
def alice(make_user, acme):
    user = make_user(
        "alice@acme.example", groups=[roles.CUSTOMERS], display_name="Alice"
    )
    setup_member(acme, user)
    return user


@pytest.fixture
def carol(make_user, globex):
    user = make_user("carol@globex.example", groups=[roles.CUSTOMERS])
    setup_member(globex, user)
    return user


@pytest.fixture
def agent(make_user):
    return make_user("agent@example.com", groups=[roles.AGENTS])


@pytest.fixture
def token_for():
    def _make(user, scopes="read,write", **kwargs):
        return create_token(user, name="test", scopes=scopes, **kwargs).secret

    return _make


@pytest.fixture
def anon():
    return Gql(Client())


@pytest.fixture
def as_user(token_for):
    """A bearer-token client for ``user`` (read and write unless told)."""

    def _make(user, scopes="read,write"):
        return Gql(Client(), token_for(user, scopes))

    return _make


@pytest.fixture
def expired_secret(alice):
    new = create_token(alice, name="old", scopes="read,write", expires_days=1)
    new.token.expires_at = timezone.now() - timedelta(seconds=1)
    new.token.save(update_fields=["expires_at"])
    return new.secret


@pytest.fixture
def fuzz_caller(token_for):
    """A bearer token for a customer or an agent, with a queue and a ticket between
    them so that the fuzzer meets real rows (the transactional test flushed the
    migrations' data, hence the groups)."""
    from django.contrib.auth.models import Group

    from tickets.tests.factories import (
        OrganizationFactory,
        QueueFactory,
        TicketFactory,
        make_agent,
        make_customer,
    )

    def _make(role):
        for name in roles.ALL_ROLES:
            Group.objects.get_or_create(name=name)
        queue = QueueFactory(slug="support", is_default=True)
        customer = make_customer(OrganizationFactory(slug="fuzz-org"))
        agent = make_agent(queue)
        TicketFactory(requester=customer, queue=queue)
        return token_for(agent if role == "agent" else customer)

    return _make


from .kb_fixtures import category, kb_index, make_article, make_category  # noqa: E402,F401
