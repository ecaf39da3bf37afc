"""Fixtures for the portal view tests (imported by the test_portal_* modules)."""

import pytest

from accounts.models import TicketSharing
from kb.tests.conftest import category, kb_index, make_article, make_category

from .factories import OrganizationFactory, make_customer

__all__ = [
    "alice_client",
    "carol",
    "category",
    "dave",
    "globex",
    "kb_index",
    "make_article",
    "make_category",
]


@pytest.fixture
def globex(db):
    return OrganizationFactory(
        name="Globex", slug="globex", ticket_sharing=TicketSharing.NONE
    )


@pytest.fixture
def carol(globex):
    return make_customer(globex, email="carol@globex.example", display_name="Carol")


@pytest.fixture
def dave(globex):
    """Carol's colleague; Globex does not share tickets."""
    return make_customer(globex, email="dave@globex.example", display_name="Dave")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client
