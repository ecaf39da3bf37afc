"""The session's recent deflection a filing with a fresh form token takes over: read
by a statement compiled once (``portal.sql.KeptStatement``), with the same answer as
the ORM's query for each condition."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tickets import deflection
from tickets.models import DeflectionEvent

pytestmark = pytest.mark.django_db


def _event(user, *, session_key="s1", outcome="deflected", ago=timedelta(0)):
    event = DeflectionEvent.objects.create(
        token=uuid.uuid4(), user=user, session_key=session_key, outcome=outcome
    )
    DeflectionEvent.objects.filter(pk=event.pk).update(updated_at=timezone.now() - ago)
    return event.token


def _values(user, session_key="s1"):
    return deflection._values(user, session_key, "", 0, "")


def _oracle(user, session_key="s1"):
    return (
        DeflectionEvent.objects.filter(
            user=user,
            session_key=session_key,
            outcome="deflected",
            ticket__isnull=True,
            updated_at__gte=timezone.now() - deflection.COME_BACK_WINDOW,
        )
        .order_by("-updated_at")
        .values_list("token", flat=True)
        .first()
    )


def test_the_latest_deflection_of_the_session_within_the_window(alice, bob):
    window = deflection.COME_BACK_WINDOW
    _event(alice, ago=timedelta(minutes=9))
    latest = _event(alice, ago=timedelta(minutes=2))
    # none of these may be taken over: another user, another session, filed, too old
    _event(bob, ago=timedelta(minutes=1))
    _event(alice, session_key="s2", ago=timedelta(minutes=1))
    _event(alice, outcome="filed", ago=timedelta(minutes=1))
    _event(alice, ago=window + timedelta(seconds=5))
    found = deflection._recent_deflection_token(_values(alice))
    assert found == latest == _oracle(alice)
    assert isinstance(found, uuid.UUID)
    assert deflection._recent_deflection_token(_values(alice, "s3")) is None
    assert deflection._recent_deflection_token(_values(bob, "s2")) is None


def test_the_window_is_measured_from_now(alice):
    window = deflection.COME_BACK_WINDOW
    old = _event(alice, ago=window + timedelta(seconds=2))
    assert deflection._recent_deflection_token(_values(alice)) is None
    DeflectionEvent.objects.filter(token=old).update(
        updated_at=timezone.now() - window + timedelta(seconds=30)
    )
    assert deflection._recent_deflection_token(_values(alice)) == old == _oracle(alice)


def test_no_user_or_no_session_reads_nothing(alice, django_assert_num_queries):
    _event(alice)
    with django_assert_num_queries(0):
        assert deflection._recent_deflection_token(_values(alice, "")) is None
    with django_assert_num_queries(1):
        assert deflection._recent_deflection_token(_values(alice)) is not None


# --- the filing's row or the token it updates (PostgreSQL: one statement) -------------


def _filing(user, token, session_key="s1"):
    from .factories import TicketFactory

    ticket = TicketFactory(requester=user)
    return ticket, deflection._new_row_or_token(
        token, _values(user, session_key), ticket
    )


def test_a_filing_without_a_recent_deflection_writes_its_row(
    alice, django_assert_num_queries
):
    from django.db import connection

    from tickets.tests.factories import TicketFactory

    _event(alice, session_key="s2")  # another session's: not this visit
    for given in (None, uuid.uuid4()):
        ticket = TicketFactory(requester=alice)
        if connection.vendor == "postgresql":  # the read and the INSERT at once
            with django_assert_num_queries(1):
                event, token = deflection._new_row_or_token(
                    given, _values(alice), ticket
                )
            assert token is None
        else:
            event = deflection.record_filed(
                token=given, user=alice, ticket=ticket, session_key="s1"
            )
        stored = DeflectionEvent.objects.get(pk=event.pk)
        assert (stored.outcome, stored.ticket, stored.user, stored.session_key) == (
            "filed",
            ticket,
            alice,
            "s1",
        )
        assert stored.token == event.token
        assert given is None or stored.token == given
        assert not event._state.adding


def test_a_filing_takes_over_the_sessions_recent_deflection(alice, bob):
    window = deflection.COME_BACK_WINDOW
    _event(alice, ago=timedelta(minutes=9))
    latest = _event(alice, ago=timedelta(minutes=2))
    _event(bob, ago=timedelta(minutes=1))
    _event(alice, session_key="s2", ago=timedelta(minutes=1))
    _event(alice, outcome="filed", ago=timedelta(minutes=1))
    _event(alice, ago=window + timedelta(seconds=5))
    before = DeflectionEvent.objects.count()
    for given in (None, uuid.uuid4()):  # a fresh token, or one no row has
        _ticket, (event, token) = _filing(alice, given)
        assert (event, token) == (None, latest)
    assert DeflectionEvent.objects.count() == before  # nothing written
    # another session of the same user has none within the window: its own row
    _ticket, (event, token) = _filing(alice, None, session_key="s3")
    assert token is None and event.session_key == "s3"


def test_a_filing_whose_token_has_a_row_updates_that_row(alice):
    _event(alice, ago=timedelta(minutes=1))  # a recent deflection: not taken over
    own = _event(alice, session_key="other", ago=timedelta(minutes=20))
    before = DeflectionEvent.objects.count()
    _ticket, (event, token) = _filing(alice, own)
    assert (event, token) == (None, own)
    assert DeflectionEvent.objects.count() == before
