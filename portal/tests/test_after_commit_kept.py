"""``portal.after_commit``'s combined command sent over a kept connection
(``redis_clients.kept_single_connection``): the owners' plain ``redis.Redis`` clients'
pool, one connection per thread held by a ``single_connection_client`` instead of one
checked out and back for each filing. On the real Redis (database 14)."""

import os
import threading
import uuid

import pytest
import redis

from portal import after_commit, redis_clients

from .test_after_commit import Spy, _closed_port, _errors

URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def lists():
    tag = uuid.uuid4().hex
    names = (f"after-commit-kept:{tag}:a", f"after-commit-kept:{tag}:b")
    yield names
    redis.Redis.from_url(URL).delete(*names)


def test_a_plain_clients_pool_gets_one_kept_connection_per_thread():
    client = redis.Redis.from_url(URL)
    kept = redis_clients.kept_single_connection(client)
    assert kept is not client
    assert kept.connection is not None
    assert kept.connection_pool is client.connection_pool
    assert redis_clients.kept_single_connection(client) is kept
    result = {}
    thread = threading.Thread(
        target=lambda: result.setdefault(
            "kept", redis_clients.kept_single_connection(client)
        )
    )
    thread.start()
    thread.join()
    assert result["kept"] is not kept
    assert result["kept"].connection is not kept.connection


def test_a_forked_child_gets_its_own(monkeypatch):
    client = redis.Redis.from_url(URL)
    kept = redis_clients.kept_single_connection(client)
    real_pid = os.getpid()
    monkeypatch.setattr(redis_clients.os, "getpid", lambda: real_pid + 1)
    again = redis_clients.kept_single_connection(client)
    assert again is not kept and again.connection is not kept.connection


def test_other_clients_are_used_as_they_are():
    spied = Spy().client  # its execute_command wrapped on the instance
    assert redis_clients.kept_single_connection(spied) is spied

    class Own(redis.Redis):
        pass

    own = Own.from_url(URL)
    assert redis_clients.kept_single_connection(own) is own
    single = redis.Redis.from_url(URL, single_connection_client=True)
    assert redis_clients.kept_single_connection(single) is single


def test_a_block_sends_over_the_kept_connection_without_the_pool(lists, monkeypatch):
    client = redis.Redis.from_url(URL)
    first, second = lists
    failed = []
    with after_commit.together():  # the kept client made, the script loaded
        after_commit.send(client, ("RPUSH", first, b"warm"), failed.append)
        after_commit.send(client, ("RPUSH", second, b"warm"), failed.append)
    taken = []
    pool = client.connection_pool
    monkeypatch.setattr(pool, "get_connection", lambda *a, **k: taken.append(a))
    monkeypatch.setattr(pool, "release", lambda *a, **k: taken.append(a))
    for number in range(3):
        with after_commit.together():
            after_commit.send(client, ("RPUSH", first, number), failed.append)
            after_commit.send(client, ("RPUSH", second, number), failed.append)
    assert failed == [] and taken == []
    reader = redis.Redis.from_url(URL)
    assert reader.lrange(first, 0, -1) == [b"warm", b"0", b"1", b"2"]
    assert reader.lrange(second, 0, -1) == [b"warm", b"0", b"1", b"2"]


def test_redis_down_tells_every_owner_and_keeps_nothing(lists):
    down = redis.Redis.from_url(
        f"redis://127.0.0.1:{_closed_port()}/14", socket_connect_timeout=0.5
    )
    (first_errors, first_failed), (second_errors, second_failed) = _errors(), _errors()
    with after_commit.together():
        after_commit.send(down, ("RPUSH", lists[0], b"job"), first_failed)
        after_commit.send(down, ("PUBLISH", "nobody", b"event"), second_failed)
    assert [type(error) for error in first_errors + second_errors] == [
        redis.ConnectionError,
        redis.ConnectionError,
    ]
    assert not any(key[0] is down.connection_pool for key in redis_clients._kept)
