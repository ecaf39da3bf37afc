"""Where the live streams' blocking calls (ORM, cache, session store) run.

Not a thread per connection, and not asgiref's one process-wide thread either (the
one Django's own sync code of a live request uses, ``portal.asgi``): under load one
thread serializes every stream's round trips to PostgreSQL and Redis, and a busy
second of events then waits behind the heartbeats of a thousand idle pages
(bench/results/live.md). A small pool shared by every stream of the process,
``LIVE_SYNC_THREADS`` threads, each with its own database connection, reused within
``CONN_MAX_AGE`` and checked around every call as Django does around a request.
"""

import functools
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            size = max(1, int(getattr(settings, "LIVE_SYNC_THREADS", 8)))
            _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="live")
        return _pool


def run_sync(func):
    """``sync_to_async(func)`` on the pool: ``await run_sync(f)(*args)``."""

    @functools.wraps(func)
    def call(*args, **kwargs):
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(call, thread_sensitive=False, executor=pool())
