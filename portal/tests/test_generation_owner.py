"""``portal.cache.Generation``: the one owner of a value kept per process for a cache
generation (the requester's organizations, the subscribable webhooks, the desk's
staff, the ticket defaults): kept while nothing changed, built each time when switched
off, with the cache down or while a change of the current transaction waits for its
commit, and renewed for every process once such a change commits."""

import pytest
from django.core.cache import cache, caches
from django.db import transaction

from portal import cache as shared_cache
from portal.cache import FailOpenRedisCache, Generation

KEY = "tests:generation-owner:generation"
SETTING = "TESTS_GENERATION_OWNER_CACHE"


@pytest.fixture
def owner(settings):
    setattr(settings, SETTING, True)  # as with Redis (one process here)
    cache.clear()
    made = Generation(KEY, SETTING, limit=3)
    yield made
    made.forget()
    cache.clear()


class Builds:
    """A build that counts its calls and answers a new value each time."""

    def __init__(self, value="value"):
        self.value = value
        self.count = 0

    def __call__(self):
        self.count += 1
        return (self.value, self.count)


def test_a_value_is_built_once_per_generation_and_key(owner):
    build = Builds()
    assert owner.get(build, "a") == ("value", 1)
    assert owner.get(build, "a") == ("value", 1)
    assert build.count == 1
    assert owner.get(build, "b") == ("value", 2)  # another key: its own value
    assert owner.get(build) == ("value", 3)  # the default key, None
    assert owner.current() == cache.get(KEY) is not None


def test_switched_off_it_is_built_each_time(owner, settings):
    setattr(settings, SETTING, False)
    build = Builds()
    assert owner.get(build) == ("value", 1)
    assert owner.get(build) == ("value", 2)
    assert owner.current() is None
    assert owner.enabled() is False


def test_by_default_only_a_shared_cache_keeps(settings):
    # the tests' cache is the local-memory one: not shared by processes
    owner = Generation(KEY, SETTING)
    assert getattr(settings, SETTING, None) is None
    assert owner.enabled() is False
    build = Builds()
    owner.get(build)
    owner.get(build)
    assert build.count == 2


def test_with_the_cache_down_it_is_built_each_time(owner, settings, closed_port):
    settings.CACHE_TIMEOUT_SECONDS = 0.2
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.FailOpenRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
        }
    }
    assert isinstance(caches["default"], FailOpenRedisCache)
    build = Builds()
    assert owner.current() is None
    assert owner.get(build) == ("value", 1)
    assert owner.get(build) == ("value", 2)


def test_another_process_s_change_is_seen_through_the_generation(owner):
    build = Builds()
    owner.get(build)
    shared_cache.new_generation(KEY)  # another process's renewal
    assert owner.get(build) == ("value", 2)
    assert owner.get(build) == ("value", 2)


def test_a_renewal_run_by_another_owner_s_function_is_this_one(owner):
    build = Builds()
    owner.get(build)
    before = cache.get(KEY)
    owner.renew()  # what runs on commit
    assert cache.get(KEY) != before
    assert owner.get(build) == ("value", 2)


def test_a_none_value_is_never_kept(owner):
    built = []
    owner.get(lambda: built.append(1))
    owner.get(lambda: built.append(1))
    assert built == [1, 1]


@pytest.mark.django_db(transaction=True)
def test_owners_of_other_keys_keep_their_own_values(owner, settings):
    other = Generation("tests:generation-owner:other", SETTING)
    first, second = Builds("first"), Builds("second")
    owner.get(first)
    other.get(second)
    other.changed()  # outside a transaction: renewed at once
    assert owner.get(first) == ("first", 1)  # untouched
    assert other.get(second) == ("second", 2)
    assert other.renew is not owner.renew


@pytest.mark.django_db(transaction=True)
def test_a_change_outside_a_transaction_renews_at_once(owner):
    build = Builds()
    owner.get(build)
    before = cache.get(KEY)
    owner.changed()
    assert cache.get(KEY) != before
    assert owner.get(build) == ("value", 2)
    assert owner.get(build) == ("value", 2)


@pytest.mark.django_db(transaction=True)
def test_nothing_is_kept_while_this_transaction_s_change_waits_for_its_commit(owner):
    build = Builds()
    owner.get(build)
    before = cache.get(KEY)
    with transaction.atomic():
        owner.changed()
        owner.changed()  # once per transaction
        assert cache.get(KEY) == before  # the others' copies stand until the commit
        assert owner.current() is None
        assert owner.get(build) == ("value", 2)
        assert owner.get(build) == ("value", 3)  # read each time, never kept
    assert cache.get(KEY) != before  # renewed when it committed
    assert owner.current() == cache.get(KEY)
    assert owner.get(build) == ("value", 4)
    assert owner.get(build) == ("value", 4)


@pytest.mark.django_db(transaction=True)
def test_a_change_rolled_back_is_never_kept(owner):
    build = Builds()
    owner.get(build)
    before = cache.get(KEY)
    with pytest.raises(RuntimeError), transaction.atomic():
        owner.changed()
        assert owner.get(build) == ("value", 2)  # not kept
        raise RuntimeError
    assert cache.get(KEY) == before  # nothing renewed
    assert owner.get(build) == ("value", 3)  # forgotten when the change was made
    assert owner.get(build) == ("value", 3)


@pytest.mark.django_db(transaction=True)
def test_a_renewal_stays_pending_when_a_later_savepoint_rolls_back(owner):
    build = Builds()
    with transaction.atomic():
        owner.changed()
        with pytest.raises(RuntimeError), transaction.atomic():
            raise RuntimeError  # Django rebuilds its on-commit list
        assert owner.current() is None  # the renewal still waits for the commit
        owner.get(build)
        owner.get(build)
        assert build.count == 2
    assert owner.current() == cache.get(KEY) is not None


@pytest.mark.django_db(transaction=True)
def test_a_renewal_asked_in_a_savepoint_rolled_back_is_no_longer_pending(owner):
    with transaction.atomic():
        before = owner.current()
        with pytest.raises(RuntimeError), transaction.atomic():
            owner.changed()
            assert owner.current() is None
            raise RuntimeError
        assert owner.current() == before is not None  # nothing left to renew
        owner.changed()  # asked again: pending again
        assert owner.current() is None
    assert owner.current() != before
