"""The default queue and the default SLA policy, remembered per process.

A ticket filed without a queue (GraphQL, the portal, email) lands in the default queue
and is timed by its SLA policy, or by the default policy when the queue has none: two
statements per filing (and one per SLA read of a ticket in a queue without a policy)
for settings that change only when someone edits a queue or a policy.

With a cache shared by every process (Redis) they are remembered per process, tagged
with a *generation* kept in the shared cache, which is read at every use (one cache
GET instead of the statements). Saving or deleting a ``Queue`` or an ``SLAPolicy``
(signals connected in ``TicketsConfig.ready``) forgets this process's copy at once and
sets a new generation when the change commits, so every process reads them again at its
next use. Nothing is remembered while the current transaction has changed a queue or a
policy (its new generation is still pending), nor when the generation cannot be read
(cache down): then they are read each time, as without a shared cache. Callers get
fresh instances; the copy itself is never handed out.
"""

import copy

from django.db.models.signals import post_delete, post_save

from portal import cache as shared_cache
from portal import instances

from .models import Queue, SLAPolicy

GENERATION_KEY = "tickets:defaults:generation"

# "queue", "policy" → (remembered rows,); a row is a tuple of field values or None
_remembered = shared_cache.Generation(GENERATION_KEY, "TICKET_DEFAULTS_CACHE", 2)

#: ``TICKET_DEFAULTS_CACHE`` (bool) overrides; by default on only when the cache is
#: shared by every process: only a shared cache carries a new generation from the
#: process that edited a queue to the others (the workers file tickets from email).
enabled = _remembered.enabled


def _row(instance):
    if instance is None:
        return None
    return tuple(getattr(instance, f.attname) for f in instance._meta.concrete_fields)


# What ``copy.deepcopy`` returns itself for: a kept row's values of these exact types
# are handed out as they are, any other (a date, a JSON value) deep-copied.
_ATOMS = frozenset((str, int, float, bool, type(None)))


def _instance(model, row):
    """A new instance of the kept ``row`` (``model.from_db`` of a deep copy of it:
    the copy never shares a mutable value with the kept one)."""
    if row is None:
        return None
    names = [f.attname for f in model._meta.concrete_fields]
    values = tuple(v if type(v) in _ATOMS else copy.deepcopy(v) for v in row)
    return instances.from_db(model, "default", names, values)


def _remember(name: str, read):
    """``read()`` (rows, or None) from this process's copy of the current generation,
    else read and keep it; read each time when switched off, within a transaction that
    changed a queue or a policy, or without a readable generation
    (``portal.cache.Generation``)."""
    return _remembered.get(lambda: (read(),), name)[0]  # None is kept too


def _default_policy_row():
    return _row(SLAPolicy.objects.filter(is_default=True).first())


def default_queue() -> Queue:
    """``Queue.objects.default()`` with its SLA policy loaded and, when it has none,
    the default policy kept with it for ``default_policy(queue)`` (one generation read
    for both). A queue created here on a fresh install (no queue yet) is not
    remembered: the creation may roll back."""

    def read():
        queue = Queue.objects.select_related("sla_policy").existing_default()
        if queue is None:
            return None
        policy = None if queue.sla_policy_id else _default_policy_row()
        return _row(queue), _row(queue.sla_policy), policy

    rows = _remember("queue", read)
    if rows is None:
        return Queue.objects.select_related("sla_policy").default()
    queue = _instance(Queue, rows[0])
    queue.sla_policy = _instance(SLAPolicy, rows[1])
    if not queue.sla_policy_id:
        queue.__dict__["_default_policy"] = _instance(SLAPolicy, rows[2])
    return queue


def default_policy(queue=None) -> SLAPolicy | None:
    """The policy flagged as default, or None; the one kept with ``queue`` when it
    came from ``default_queue``."""
    if queue is not None and "_default_policy" in queue.__dict__:
        return queue.__dict__["_default_policy"]
    return _instance(SLAPolicy, _remember("policy", _default_policy_row))


#: The renewal, run when a change of a queue or a policy commits (tests: another
#: process's).
_new_generation = _remembered.renew

#: A queue or a policy changed: forget them in this process now, and in every process
#: once the change commits.
invalidate = _remembered.changed


def connect() -> None:
    for model in (Queue, SLAPolicy):
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(
                invalidate,
                sender=model,
                dispatch_uid=f"tickets.defaults.{model.__name__}.{name}",
            )
