"""Generations read in one round trip (``portal.cache.generations_read_together``)
against ``generation`` read one by one: the same values, none read again inside the
block, a missing one made as ``generation`` makes it, a renewal inside the block seen
at the next read, the cache down answering None as before; and the portal filing
reading the default queue's and the staff's generations together
(``tickets.hooks.generations_read``)."""

import pytest
from django.core.cache import cache

from portal import cache as shared_cache
from tickets import hooks
from tickets.models import EventKind

from .test_rate_limit_read_ahead import _reads_counted


@pytest.fixture(autouse=True)
def _clear():
    cache.clear()
    yield
    cache.clear()


def _no_single_reads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("read one by one inside the block")

    monkeypatch.setattr(cache, "get", refuse)


def test_the_values_are_the_ones_generation_reads(monkeypatch):
    a, b = shared_cache.generation("g:a"), shared_cache.generation("g:b")
    with shared_cache.generations_read_together("g:a", "g:b"):
        with monkeypatch.context() as patched:
            _no_single_reads(patched)
            assert shared_cache.generation("g:a") == a
            assert shared_cache.generation("g:b") == b
            assert shared_cache.generation("g:a") == a  # asked twice
    assert shared_cache.generation("g:a") == a  # outside: read as before


def test_a_missing_generation_is_made_as_generation_makes_it():
    with shared_cache.generations_read_together("g:new", "g:other"):
        made = shared_cache.generation("g:new")
        assert made is not None
        assert shared_cache.generation("g:new") == made
    assert cache.get("g:new") == made == shared_cache.generation("g:new")


def test_a_renewal_inside_the_block_is_seen_at_the_next_read():
    before = shared_cache.generation("g:a")
    shared_cache.generation("g:b")
    with shared_cache.generations_read_together("g:a", "g:b"):
        assert shared_cache.generation("g:a") == before
        shared_cache.new_generation("g:a")
        renewed = shared_cache.generation("g:a")
        assert renewed != before
        assert renewed == cache.get("g:a")


def test_another_processs_renewal_after_the_start_is_seen_after_the_block():
    before = shared_cache.generation("g:a")
    shared_cache.generation("g:b")
    with shared_cache.generations_read_together("g:a", "g:b"):
        cache.set("g:a", before + 1, None)  # another process, meanwhile
        # read ahead: what a request that read it a moment earlier would use
        assert shared_cache.generation("g:a") == before
    assert shared_cache.generation("g:a") == before + 1


def test_the_cache_down_answers_none_as_before(monkeypatch):
    monkeypatch.setattr(cache, "get_many", lambda keys, version=None: {})
    monkeypatch.setattr(cache, "get", lambda key, default=None, version=None: None)
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: False)
    with shared_cache.generations_read_together("g:a", "g:b"):
        assert shared_cache.generation("g:a") is None
    assert shared_cache.generation("g:a") is None


def test_no_keys_read_nothing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("read")

    monkeypatch.setattr(cache, "get_many", refuse)
    with shared_cache.generations_read_together():
        pass


def test_the_blocks_nest_and_end():
    a = shared_cache.generation("g:a")
    shared_cache.generation("g:b")
    with shared_cache.generations_read_together("g:a", "g:b"):
        with shared_cache.generations_read_together("g:a", "g:c"):
            assert shared_cache.generation("g:a") == a
        assert shared_cache._read_ahead.get() == {
            "g:a": a,
            "g:b": cache.get("g:b"),
        }
    assert shared_cache._read_ahead.get() is None


@pytest.mark.parametrize(
    "defaults_cache, staff_cache, expected",
    [(True, True, 2), (True, False, 0), (False, True, 0), (False, False, 0)],
)
def test_a_filing_reads_both_generations_when_both_are_kept(
    settings, defaults_cache, staff_cache, expected
):
    from tickets import defaults
    from tickets.desk.inbox import STAFF_GENERATION_KEY

    settings.TICKET_DEFAULTS_CACHE = defaults_cache
    settings.DESK_STAFF_CACHE = staff_cache
    keys = hooks.generations_read(EventKind.CREATED)
    assert len(keys) == expected
    if expected:
        assert set(keys) == {defaults.GENERATION_KEY, STAFF_GENERATION_KEY}
        with hooks.suppressed():
            assert hooks.generations_read(EventKind.CREATED) == []


@pytest.mark.django_db(transaction=True)
def test_the_portal_filing_reads_them_in_one_round_trip(settings, client, monkeypatch):
    from accounts.models import User
    from portal.notifications.models import SentNotification
    from tickets import defaults, notifications_handlers
    from tickets.desk.inbox import STAFF_GENERATION_KEY
    from tickets.tests.factories import QueueFactory, make_agent, make_customer

    settings.TICKET_DEFAULTS_CACHE = True
    settings.DESK_STAFF_CACHE = True
    notifications_handlers._kept_agents.forget()
    queue = QueueFactory(slug="support", name="Support", is_default=True)
    make_agent(queue, email="ann@example.com")
    alice = make_customer(email="alice@example.com")
    client.force_login(User.objects.get(pk=alice.pk))
    data = {
        "subject": "Help",
        "description": "Please",
        "category": "technical",
        "priority": "medium",
    }
    assert client.post("/portal/tickets/new/", data).status_code == 302  # warm
    singles, manies = _reads_counted(cache, monkeypatch)
    assert client.post("/portal/tickets/new/", data).status_code == 302
    assert manies == [[defaults.GENERATION_KEY, STAFF_GENERATION_KEY]]
    assert defaults.GENERATION_KEY not in singles
    assert STAFF_GENERATION_KEY not in singles
    alerts = SentNotification.objects.filter(kind="ticket_created_agent")
    assert alerts.count() == 2  # one per filing, the kept agent
    notifications_handlers._kept_agents.forget()
