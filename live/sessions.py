"""The heartbeat's question, "does the session this stream was opened with still sign
its user in?", asked for many streams at once.

Each open page re-checks its session every ``LIVE_HEARTBEAT_SECONDS``: a session-store
read, a user query and a cache touch (the connection slot). At 1,000 open pages that
was about 70 calls a second on the shared pool (``live.threads``), each its own thread
hop and ORM query, competing with event delivery for the event loop and the GIL. Here
the checks that fall due within ``_WINDOW`` seconds of each other are answered by one
pool call: one query for all their users, one store read per distinct session, one
slot refresh per distinct user.
"""

import asyncio
import weakref

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.utils.crypto import constant_time_compare

from .limits import refresh_slot
from .threads import run_sync

_WINDOW = 0.25
_batchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batcher]" = (
    weakref.WeakKeyDictionary()
)


def _still_valid(checks: list[tuple[str, int]]) -> dict[tuple[str, int], bool]:
    """For each ``(session_key, user_id)``: not logged out or expired, the password
    not changed since, the user still active. Refreshes each user's slot."""
    from importlib import import_module

    from django.contrib.auth import get_user_model

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    user_ids = {user_id for _, user_id in checks}
    users = {
        user.pk: user
        for user in get_user_model().objects.filter(pk__in=user_ids, is_active=True)
    }
    results = {}
    for session_key, user_id in checks:
        user = users.get(user_id)
        if not session_key or user is None:
            results[session_key, user_id] = False
            continue
        store = store_class(session_key)
        results[session_key, user_id] = str(store.get(SESSION_KEY)) == str(
            user_id
        ) and constant_time_compare(
            store.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
        )
    for user_id in user_ids:
        refresh_slot(user_id)
    return results


class _Batcher:
    def __init__(self):
        self.pending: dict[tuple[str, int], list[asyncio.Future]] = {}
        self.flushing: asyncio.Task | None = None

    async def check(self, session_key: str | None, user_id: int) -> bool:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.pending.setdefault((session_key or "", user_id), []).append(future)
        if self.flushing is None:
            self.flushing = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(_WINDOW)
        batch, self.pending, self.flushing = self.pending, {}, None
        try:
            results = await run_sync(_still_valid)(list(batch))
        except asyncio.CancelledError:
            for futures in batch.values():
                for future in futures:
                    future.cancel()
            raise
        except Exception as exc:
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        for key, futures in batch.items():
            for future in futures:
                if not future.done():
                    future.set_result(results[key])


async def session_still_valid(session_key: str | None, user_id: int) -> bool:
    """Whether the session still signs the user in (and their slot is kept)."""
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = _Batcher()
    return await batcher.check(session_key, user_id)
