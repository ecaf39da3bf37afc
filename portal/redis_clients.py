"""The cache's redis-py clients (``portal.cache.FailOpenRedisCache``): one kept
``single_connection_client`` per connection pool and thread, and the retry of its
connections."""

import os
import threading

from django.core.cache.backends.redis import RedisCacheClient


class SharedClients(RedisCacheClient):
    """Django's client makes a new ``redis.Redis`` for every cache call, which copies
    its ~170 response callbacks (0.1 ms, most of a GET); one per connection pool and
    thread does the same work.

    Each is a ``single_connection_client`` (redis-py's own option): it holds one of
    the pool's connections instead of taking one from the pool and giving it back
    for every command (~60 Python calls a command: the pool's lock, its checks and
    its event dispatch). One per thread, so that no two threads wait for one
    connection, and made again in a forked child (a connection is never shared
    with the parent: the pool's own pid check runs when the child's client takes
    its connection). The connection is taken when the client is made (a refused
    connection raises there, inside the caller's ``fail_open``, as a command's
    would) and kept while the client is; a dropped connection is made again by the
    command's retry, as the pool's would be."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # (pool, thread) -> (pid, client)

    def get_client(self, key=None, *, write=False):
        return _kept_client(
            self._clients, self._get_connection_pool(write), self._client
        )


def _kept_client(kept: dict, pool, make, most: int | None = None):
    """This thread's ``single_connection_client`` of ``pool`` in ``kept`` ((pool,
    thread) -> (pid, client)), made by ``make`` when missing or made before a fork.
    When one is made, the clients of finished threads are dropped (their connections
    go back to the pool as the clients close), and all of them past ``most``."""
    found = kept.get((pool, threading.get_ident()))
    if found is not None and found[0] == os.getpid():
        return found[1]
    alive = {thread.ident for thread in threading.enumerate()}
    for key in [key for key in kept if key[1] not in alive]:
        kept.pop(key, None)
    if most is not None and len(kept) >= most:  # pools made and dropped (tests)
        kept.clear()
    client = make(connection_pool=pool, single_connection_client=True)
    kept[pool, threading.get_ident()] = (os.getpid(), client)
    return client


def once_more_on_a_dropped_connection():
    """redis-py's ``retry`` of the cache's connections: a command that meets a
    connection the server closed (a restart, an idle timeout) is sent once more on a
    new one. The pool checked a connection before lending it (and made a closed one
    again); a kept connection (``SharedClients``) is found closed by its command.
    A timeout is not tried again (a silent server: ``fail_open`` answers at once)."""
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.retry import Retry

    return Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


_kept: dict = {}  # (connection pool, thread) -> (pid, client)
_MOST_KEPT = 64


def kept_single_connection(client):
    """A ``single_connection_client`` on ``client``'s connection pool, kept per pool
    and thread and made again in a forked child (as ``SharedClients``' clients): its
    commands are ``client``'s without a connection checked out of the pool and back
    for each. ``client`` itself when it is not a plain ``redis.Redis`` (a subclass, a
    client-side cache, a command wrapped on the instance) or holds a connection
    already. The connection's ``retry`` is the pool's, as for ``client``'s commands."""
    import redis

    if (
        type(client) is not redis.Redis
        or client.connection is not None
        or "execute_command" in client.__dict__
        or client.get_cache() is not None
    ):
        return client
    return _kept_client(_kept, client.connection_pool, redis.Redis, _MOST_KEPT)
