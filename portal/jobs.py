"""Queueing work for the django-q2 cluster.

``django_q.tasks.async_task`` asks ``get_broker()`` for a broker on every call, and for
Redis that is a new client with a new connection pool: a TCP connect and a health check
for every job queued (measured: the largest single cost of filing a ticket through the
API). ``enqueue`` hands it one broker per process instead; redis-py's pool notices a fork
and reconnects in the child.
"""

import threading

from django_q.brokers import get_broker
from django_q.tasks import async_task

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


def enqueue(func, *args, **kwargs):
    """``async_task`` with the process's broker; returns the task id."""
    return async_task(func, *args, broker=broker(), **kwargs)
