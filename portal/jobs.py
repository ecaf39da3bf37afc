"""Queueing work for the django-q2 cluster.

``django_q.tasks.async_task`` asks ``get_broker()`` for a broker on every call, and for
Redis that is a new client with a new connection pool: a TCP connect and a health check
for every job queued (measured: the largest single cost of filing a ticket through the
API). ``enqueue`` hands it one broker per process instead; redis-py's pool notices a fork
and reconnects in the child.

A push that is only a wake-up after a commit (``on_error``) goes through
``portal.after_commit``: in one round trip with the change's other after-commit
commands.
"""

import threading

from django_q.brokers import get_broker
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.tasks import async_task

from . import after_commit

_lock = threading.Lock()
_broker = None


def broker():
    """This process's broker, made on first use."""
    global _broker
    if _broker is None:
        with _lock:
            if _broker is None:
                _broker = get_broker()
    return _broker


class _PushAfterCommit:
    """The Redis broker's ``enqueue`` (the signed task pushed on its list) handed to
    ``after_commit.send``, which reports a failure to ``on_error``."""

    def __init__(self, redis_broker, on_error):
        self.list_key = redis_broker.list_key
        self.connection = redis_broker.connection
        self.on_error = on_error

    def enqueue(self, task) -> None:
        after_commit.send(
            self.connection, ("RPUSH", self.list_key, task), self.on_error
        )


def enqueue(func, *args, on_error=None, **kwargs):
    """``async_task`` with the process's broker; returns the task id.

    ``on_error``: the job is a wake-up queued after a commit. On the Redis broker its
    push goes through ``portal.after_commit.send`` (with the change's other commands
    inside a ``together`` block) and a failure to push is handed to ``on_error(error)``
    instead of raised; on another broker it is queued at once, as without."""
    chosen = broker()
    if on_error is not None and type(chosen).enqueue is RedisBroker.enqueue:
        chosen = _PushAfterCommit(chosen, on_error)
    return async_task(func, *args, broker=chosen, **kwargs)
