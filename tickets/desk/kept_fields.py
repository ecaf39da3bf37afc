"""The workspace's empty ``<select>``s of assignee and priority, kept per process as
crm's Follow-up panel keeps its empty forms' fields (``crm.desk.follow_up``).

The priority's choices are the code's: its ``<select>`` is kept per (language,
current priority). The assignee's choices are the staff (``permissions.
assignable_agents``: the active agents of the ticket's queue's group, supervisors and
administrators, by name): kept per (language, the queue's agent group, current
assignee) for one staff generation at a time (``inbox.staff_generation``: renewed on
commit by every save or deletion of a user or group and every change of a user's
groups; None, so nothing kept, when ``DESK_STAFF_CACHE`` is off, while such a change
waits for its commit, or without a shared cache). A bound form (with its errors) is
rendered afresh. A miss renders the field as before (``{{ form.field }}``), so the
markup is the widget's; no CSRF token, user or ticket reference is in it."""

import threading

from django.utils.translation import get_language

from .inbox import staff_generation

# At most this many of each (the staff's languages times queues times assignees, or
# languages times priorities, in practice).
KEPT_SELECTS = 4096
_kept_lock = threading.Lock()
_kept_assignee: tuple = (None, {})  # (generation, {(language, group, value): html})
_kept_priority: dict = {}  # {(language, value): html}


def assignee_select(form, ticket) -> str:
    """``{{ form.assignee }}`` of the workspace's ``AssignForm`` for ``ticket``."""
    global _kept_assignee
    field = form["assignee"]
    if form.is_bound:
        return str(field)
    generation = staff_generation()  # before the staff is read
    if generation is None:
        return str(field)
    key = (get_language(), ticket.queue.agent_group_id, field.value())
    kept_generation, kept = _kept_assignee
    if kept_generation == generation:
        html = kept.get(key)
        if html is not None:
            return html
    html = str(field)
    with _kept_lock:
        kept_generation, kept = _kept_assignee
        if kept_generation != generation:
            kept = {}
            _kept_assignee = (generation, kept)
        if len(kept) < KEPT_SELECTS:
            kept[key] = html
    return html


def priority_select(form) -> str:
    """``{{ form.priority }}`` of the workspace's ``PriorityForm``."""
    field = form["priority"]
    if form.is_bound:
        return str(field)
    key = (get_language(), field.value())
    html = _kept_priority.get(key)
    if html is None:
        html = str(field)
        if len(_kept_priority) < KEPT_SELECTS:
            _kept_priority[key] = html
    return html


def forget_kept_fields() -> None:
    """Empty this process's kept fields (tests)."""
    global _kept_assignee
    with _kept_lock:
        _kept_assignee = (None, {})
        _kept_priority.clear()
