"""``portal.cache``'s Redis clients: one ``single_connection_client`` per connection
pool and thread, holding its connection instead of taking one from the pool for each
command; made again in a forked child; a finished thread's dropped; a dropped
connection made again by the command's retry. On the real Redis (database 14)."""

import os
import threading
import uuid

import pytest
import redis
from django.core.cache import caches

from portal import counters, redis_clients

URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.FailOpenRedisCache",
            "LOCATION": URL,
            "KEY_PREFIX": f"test-clients-{uuid.uuid4().hex}",
        }
    }
    cache = caches["default"]
    yield cache
    cache.clear()


def _in_thread(work):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", work()))
    thread.start()
    thread.join()
    return result["value"]


def test_commands_take_no_connection_from_the_pool(cache, monkeypatch):
    cache.set("k", "v")  # the client made, its connection taken
    client = cache._cache.get_client("k")
    pool = client.connection_pool
    taken = []
    monkeypatch.setattr(pool, "get_connection", lambda *a, **k: taken.append(a))
    monkeypatch.setattr(pool, "release", lambda *a, **k: taken.append(a))
    connection = client.connection
    for number in range(5):
        cache.set(f"k{number}", number)
        assert cache.get(f"k{number}") == number
    assert counters.add_to("counted", 2, timeout=60) == 2
    assert counters.add_to("counted", 3, timeout=60) == 5
    assert taken == []
    assert cache._cache.get_client("k") is client
    assert client.connection is connection


def test_each_thread_has_its_own_client_and_connection(cache):
    cache.set("shared", "seen by all")
    mine = cache._cache.get_client()
    theirs, value = _in_thread(lambda: (cache._cache.get_client(), cache.get("shared")))
    assert value == "seen by all"
    assert theirs is not mine
    assert theirs.connection is not mine.connection
    assert theirs.connection_pool is mine.connection_pool


def test_a_finished_threads_client_is_dropped_when_a_client_is_made(cache):
    cache.get("warm")
    _in_thread(lambda: cache.get("x"))
    assert len(cache._cache._clients) == 2
    _in_thread(lambda: cache.get("y"))  # its client made: the first thread's gone
    threads = {key[1] for key in cache._cache._clients}
    assert threading.get_ident() in threads
    assert len(cache._cache._clients) == 2


def test_a_forked_child_makes_its_own_client(cache, monkeypatch):
    cache.set("k", "parent")
    parent = cache._cache.get_client()
    real_pid = redis_clients.os.getpid()
    monkeypatch.setattr(redis_clients.os, "getpid", lambda: real_pid + 1)
    child = cache._cache.get_client()
    assert child is not parent
    assert child.connection is not parent.connection
    assert cache.get("k") == "parent"
    assert cache._cache.get_client() is child


def test_a_dropped_connection_is_made_again_by_the_commands_retry(cache):
    cache.set("k", "before")
    client = cache._cache.get_client()
    killer = redis.Redis.from_url(URL)
    try:
        assert killer.client_kill_filter(_id=client.client_id()) == 1
    finally:
        killer.close()
    assert cache.get("k") == "before"  # sent again on a new connection
    assert client.connection is not None
    assert cache.breaker.is_open() is False
    cache.set("k", "after")
    assert cache.get("k") == "after"
    assert cache.breaker.is_open() is False


def test_the_kept_client_is_a_single_connection_client(cache):
    client = cache._cache.get_client()
    assert client.connection is not None  # redis-py's own option, not a pool's loan
    assert cache._cache.get_client(write=True) is client


def test_a_real_fork_shares_no_connection_with_its_parent(cache):
    """The child's commands go over its own connection: the parent's, used before and
    after, still answers its own commands."""
    cache.set("k", "parent")
    parent = cache._cache.get_client()
    pid = os.fork()
    if pid == 0:  # the child: only Redis, then out without any clean-up
        try:
            child = cache._cache.get_client()
            ok = child is not parent and all(
                cache.get("k") == "parent" and cache.set(f"c{n}", n) is None
                for n in range(20)
            )
        except BaseException:  # noqa: BLE001 - reported by the exit status
            ok = False
        os._exit(0 if ok else 1)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert cache._cache.get_client() is parent
    assert [cache.get(f"c{n}") for n in range(20)] == list(range(20))
    assert cache.get("k") == "parent"
