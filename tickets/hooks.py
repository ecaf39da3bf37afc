"""A tiny registry for what must happen after a ticket changes.

The services call ``emit(kind, ticket, event, **data)`` once per change. Handlers
registered with ``register(kind, func)`` run after the transaction commits (emails,
webhook delivery kick-off); handlers registered with ``register(kind, func,
in_transaction=True)`` run at once, inside the service's transaction (for an outbox that
must commit or roll back with the change). ``kind`` is a ``TicketEvent.Kind`` value or
``"*"`` for every kind.

Handlers are called as ``func(kind, ticket, event, **data)``. An after-commit handler
that raises is logged and does not disturb the others; an in-transaction handler that
raises rolls the whole change back.
"""

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager

from django.db import transaction

logger = logging.getLogger(__name__)

ALL = "*"

_after_commit: dict[str, list[Callable]] = defaultdict(list)
_in_transaction: dict[str, list[Callable]] = defaultdict(list)
_state = threading.local()


@contextmanager
def suppressed():
    """Run services without any hooks (demo data, imports): no emails, no webhooks."""
    previous = getattr(_state, "suppressed", False)
    _state.suppressed = True
    try:
        yield
    finally:
        _state.suppressed = previous


def register(kind: str, func: Callable, *, in_transaction: bool = False) -> Callable:
    """Register ``func`` for ``kind`` (idempotent). Usable as a plain call in
    ``AppConfig.ready()``."""
    registry = _in_transaction if in_transaction else _after_commit
    if func not in registry[kind]:
        registry[kind].append(func)
    return func


def unregister(kind: str, func: Callable, *, in_transaction: bool = False) -> None:
    registry = _in_transaction if in_transaction else _after_commit
    if func in registry[kind]:
        registry[kind].remove(func)


def _handlers(registry, kind):
    if getattr(_state, "suppressed", False):
        return []
    return [*registry.get(kind, ()), *registry.get(ALL, ())]


def emit_in_transaction(kind: str, ticket, event, **data) -> None:
    for func in _handlers(_in_transaction, kind):
        func(kind, ticket, event, **data)


def emit_after_commit(kind: str, ticket, event, **data) -> None:
    handlers = _handlers(_after_commit, kind)
    if not handlers:
        return

    def run():
        for func in handlers:
            try:
                func(kind, ticket, event, **data)
            except Exception:
                logger.exception("Ticket hook %r failed for %s", func, kind)

    transaction.on_commit(run)


def emit(kind: str, ticket, event, **data) -> None:
    """What every service calls: the in-transaction handlers now, the rest on commit."""
    emit_in_transaction(kind, ticket, event, **data)
    emit_after_commit(kind, ticket, event, **data)


# --- the shared cache's generations a change reads -------------------------------------
# A change reads some generations of the shared cache (``portal.cache.generation``)
# before what is kept under them: a new ticket's default queue, its queue's agents for
# the alert. Their owners declare them here, so that a surface can read them in one
# round trip before the change (``portal.cache.generations_read_together``).

_generations: dict[str, dict[str, Callable[[], bool]]] = defaultdict(dict)


def reads_generation(kind: str, key: str, kept: Callable[[], bool]) -> None:
    """Declare that a change of ``kind`` reads the generation ``key`` whenever
    ``kept()`` (its owner keeps anything under it). Idempotent."""
    _generations[kind][key] = kept


def generations_read(kind: str) -> list[str]:
    """The generations a change of ``kind`` will read, when more than one (a single
    one gains nothing from being read ahead); none while hooks are suppressed."""
    if getattr(_state, "suppressed", False):
        return []
    keys = [key for key, kept in _generations.get(kind, {}).items() if kept()]
    return keys if len(keys) > 1 else []
