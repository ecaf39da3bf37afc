"""``portal.counters.add_to`` on Redis: its two commands packed and read by hand count
exactly as redis-py's pipeline did (values, time to live, an error reply), leave no
reply unread on the pooled connection, and fail open as before."""

import pytest
import redis
from redis.connection import Connection

from portal import counters

from .test_degraded_cache import real_redis_cache


def pipeline_add_to(cache, key, delta, timeout):
    """What ``add_to`` sent before: redis-py's pipeline."""
    full_key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(full_key, write=True)
    with client.pipeline(transaction=False) as pipe:
        pipe.set(full_key, 0, ex=timeout, nx=True)
        pipe.incr(full_key, delta)
        _created, value = pipe.execute()
    return int(value)


@pytest.mark.parametrize("key", ["plain", "ratelimit:graphql:token:7:29941730", "é"])
@pytest.mark.parametrize("delta", [1, 5, -2])
def test_the_packed_commands_are_redis_pys(key, delta):
    connection = Connection()
    commands = [("SET", key, 0, "EX", 61, "NX"), ("INCRBY", key, delta)]
    encoded = [tuple(connection.encoder.encode(a) for a in c) for c in commands]
    assert counters._packed(*encoded) == b"".join(connection.pack_commands(commands))


def test_counts_as_the_pipeline_counted(settings):
    _url, cache = real_redis_cache(settings, "counters-packed")
    raw = cache._cache.get_client(write=True)
    keys = ["packed", "piped"]
    cache.delete_many(keys)
    try:
        ours = [counters.add_to("packed", d, timeout=30) for d in (1, 1, 4, -1)]
        theirs = [pipeline_add_to(cache, "piped", d, 30) for d in (1, 1, 4, -1)]
        assert ours == theirs == [1, 2, 6, 5]
        assert cache.get("packed") == cache.get("piped") == 5
        for key in keys:
            assert 28 <= raw.ttl(cache.make_and_validate_key(key)) <= 30
        # the window is not extended by later counts (NX)
        raw.expire(cache.make_and_validate_key("packed"), 10)
        counters.add_to("packed", timeout=30)
        assert raw.ttl(cache.make_and_validate_key("packed")) <= 10
        pool = raw.connection_pool
        assert not pool._in_use_connections  # every connection back in the pool
    finally:
        cache.delete_many(keys)


def test_an_error_reply_is_raised_and_fails_open_with_the_connection_clean(settings):
    _url, cache = real_redis_cache(settings, "counters-packed")
    raw = cache._cache.get_client(write=True)
    text_key = cache.make_and_validate_key("text")
    raw.set(text_key, "not a number", ex=30)
    try:
        with pytest.raises(redis.ResponseError):
            counters._redis_add_to(cache, "text", 1, 30)
        with pytest.raises(redis.ResponseError):
            pipeline_add_to(cache, "text", 1, 30)
        # the pooled connection answers the next command with its own reply
        assert counters._redis_add_to(cache, "after", 1, 30) == 1
        assert raw.get(text_key) == b"not a number"
        # through ``add_to``: open, as before (the caller's delta)
        assert counters.add_to("text", 3, timeout=30) == 3
    finally:
        cache.breaker.reset()
        cache.delete_many(["text", "after"])
