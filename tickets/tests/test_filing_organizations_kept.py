"""A filer's organizations are read once per generation (``accounts.
kept_organizations``, ``services.organizations_for_filing``): the second filing reads
none and files under the same organization, with 0, 1 or several memberships; every
change of a membership or an organization (joined, left, renamed, its sharing
changed, deleted) shows at the next filing, made in this process or another one.
Nothing is kept while such a change waits for its commit, with the cache switched off
or without a generation (the cache down)."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts import kept_organizations
from accounts.models import Membership, Organization, TicketSharing
from accounts.services import change_ticket_sharing, setup_member
from portal import cache as shared_cache
from tickets import services

from .factories import OrganizationFactory, QueueFactory, make_customer

# Committed changes: a new generation is set when a change commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def kept(settings):
    settings.ORGANIZATIONS_CACHE = True  # as with Redis (one process here)
    cache.clear()
    kept_organizations.forget()
    QueueFactory(slug="support", name="Support", is_default=True)
    yield
    cache.clear()
    kept_organizations.forget()


def organizations_read(queries) -> int:
    return sum(q["sql"].startswith('SELECT "accounts_organization"') for q in queries)


def file(requester, organization=None):
    """File a ticket: its organization's slug and sharing, and how many statements
    read the requester's organizations."""
    with CaptureQueriesContext(connection) as queries:
        ticket = services.create_ticket(
            requester, subject="Help", description="Hi", organization=organization
        )
    ticket.refresh_from_db()
    org = ticket.organization
    return (org.slug, org.ticket_sharing) if org else None, organizations_read(queries)


def offered(user):
    """The organizations the portal form offers, by name, as a new request reads
    them."""
    user.__dict__.pop("_filing_organizations", None)
    try:
        return [(o.slug, o.joined[1]) for o in services.organizations_for_filing(user)]
    finally:
        user.__dict__.pop("_filing_organizations", None)


def test_no_organization_is_kept_too():
    user = make_customer()
    assert file(user) == (None, 1)
    assert file(user) == (None, 0)


def test_one_organization_is_read_once():
    acme = OrganizationFactory(name="Acme", slug="acme")
    user = make_customer(acme)
    assert file(user) == (("acme", "none"), 1)
    assert file(user) == (("acme", "none"), 0)
    assert file(user) == (("acme", "none"), 0)


def test_several_organizations_keep_their_order_default_and_checks():
    zeta = OrganizationFactory(name="Zeta", slug="zeta")
    acme = OrganizationFactory(name="Acme", slug="acme")
    other = OrganizationFactory(name="Other", slug="other")
    user = make_customer(zeta)
    setup_member(acme, user)
    first = offered(user)
    assert [slug for slug, _ in first] == ["acme", "zeta"]
    assert offered(user) == first
    assert file(user) == (("zeta", "none"), 0)  # the first joined, kept
    assert file(user, acme) == (("acme", "none"), 0)
    with pytest.raises(ValidationError):
        file(user, other)
    # other users' rows are their own
    bob = make_customer(other)
    assert file(bob) == (("other", "none"), 1)
    assert file(user) == (("zeta", "none"), 1)  # bob's membership renewed it


def test_the_kept_organizations_are_new_instances():
    acme = OrganizationFactory(name="Acme", slug="acme", email_domains=["acme.test"])
    user = make_customer(acme)
    user.__dict__.pop("_filing_organizations", None)
    read = services.organizations_for_filing(user)
    user.__dict__.pop("_filing_organizations", None)
    again = services.organizations_for_filing(user)
    assert [o.pk for o in read] == [o.pk for o in again] == [acme.pk]
    assert read[0] is not again[0]
    assert read[0].joined == again[0].joined
    assert again[0].email_domains == ["acme.test"]
    assert again[0].email_domains is not read[0].email_domains


def test_joining_and_leaving_show_at_the_next_filing():
    user = make_customer()
    assert file(user) == (None, 1)
    acme = OrganizationFactory(name="Acme", slug="acme")
    setup_member(acme, user)
    assert file(user) == (("acme", "none"), 1)
    zeta = OrganizationFactory(name="Zeta", slug="zeta")
    setup_member(zeta, user)
    assert offered(user)[1][0] == "zeta"
    assert file(user) == (("acme", "none"), 0)
    Membership.objects.get(user=user, organization=acme).delete()
    assert file(user) == (("zeta", "none"), 1)
    with pytest.raises(ValidationError):
        file(user, acme)
    Membership.objects.filter(user=user).delete()  # a queryset's deletion
    assert file(user) == (None, 1)


def test_an_organizations_changes_show_at_the_next_filing():
    acme = OrganizationFactory(name="Acme", slug="acme")
    beta = OrganizationFactory(name="Beta", slug="beta")
    user = make_customer(beta)
    setup_member(acme, user)
    assert [slug for slug, _ in offered(user)] == ["acme", "beta"]
    acme.name = "Zulu"
    acme.save()
    assert [slug for slug, _ in offered(user)] == ["beta", "acme"]
    assert file(user) == (("beta", "none"), 0)
    # the sharing is written by an UPDATE (no signal): renewed by the service
    admin = make_customer()
    admin.is_superuser = True
    admin.save()
    change_ticket_sharing(beta, TicketSharing.READ, by=admin)
    assert file(user) == (("beta", TicketSharing.READ), 1)
    gamma = OrganizationFactory(name="Gamma", slug="gamma")
    setup_member(gamma, user)
    assert [slug for slug, _ in offered(user)] == ["beta", "gamma", "acme"]
    Organization.objects.get(pk=gamma.pk).delete()  # no tickets: not protected
    assert [slug for slug, _ in offered(user)] == ["beta", "acme"]


def test_nothing_is_kept_while_a_change_waits_for_its_commit():
    acme = OrganizationFactory(name="Acme", slug="acme")
    user = make_customer()
    assert file(user) == (None, 1)
    assert file(user) == (None, 0)
    with transaction.atomic():
        setup_member(acme, user)
        assert file(user) == (("acme", "none"), 1)  # this transaction's own view
        assert file(user) == (("acme", "none"), 1)  # not kept
    assert file(user) == (("acme", "none"), 1)
    assert file(user) == (("acme", "none"), 0)


def test_a_change_in_another_process_shows_through_the_generation():
    acme = OrganizationFactory(name="Acme", slug="acme")
    user = make_customer(acme)
    assert file(user) == (("acme", "none"), 1)
    Membership.objects.filter(user=user)._raw_delete("default")  # no signal here
    assert file(user) == (("acme", "none"), 0)  # kept: this process was not told
    shared_cache.new_generation(kept_organizations.GENERATION_KEY)  # the other's
    assert file(user) == (None, 1)


@pytest.mark.parametrize("switched", [False, None])
def test_read_each_time_without_a_shared_cache(settings, switched):
    settings.ORGANIZATIONS_CACHE = switched  # None: the test settings' local cache
    user = make_customer(OrganizationFactory(name="Acme", slug="acme"))
    assert file(user) == (("acme", "none"), 1)
    assert file(user) == (("acme", "none"), 1)


def test_read_each_time_while_the_cache_cannot_say(monkeypatch):
    user = make_customer(OrganizationFactory(name="Acme", slug="acme"))
    monkeypatch.setattr(shared_cache, "generation", lambda key: None)
    assert file(user) == (("acme", "none"), 1)
    assert file(user) == (("acme", "none"), 1)


def test_the_kept_organizations_are_the_plain_reads_instances():
    """Oracle: the instances made of the kept rows are the ones the statement's own
    read makes (every attribute and its type)."""
    zeta = OrganizationFactory(name="Zeta", slug="zeta", email_domains=["z.test"])
    user = make_customer(zeta)
    setup_member(OrganizationFactory(name="Acme", slug="acme"), user)
    offered(user)  # kept
    user.__dict__.pop("_filing_organizations", None)
    kept = services.organizations_for_filing(user)
    plain = services._FILING_ORGANIZATIONS.instances(user=user.pk)
    assert len(kept) == len(plain) == 2
    for made, read in zip(kept, plain, strict=True):
        read.joined = (
            read.__dict__.pop("_joined_at"),
            read.__dict__.pop("_membership"),
        )
        assert list(made.__dict__) == list(read.__dict__)
        for key, value in read.__dict__.items():
            if key == "_state":
                assert made._state.__dict__ == value.__dict__
            else:
                assert made.__dict__[key] == value
                assert type(made.__dict__[key]) is type(value)
