"""The workspace's empty ``<select>``s of assignee, priority and queue, kept per
process as crm's Follow-up panel keeps its empty forms' fields (``crm.desk.follow_up``).

The priority's choices are the code's: its ``<select>`` is kept per (language,
current priority). The assignee's choices are the staff (``permissions.
assignable_agents``: the active agents of the ticket's queue's group, supervisors and
administrators, by name): kept per (language, the queue's agent group, current
assignee) for one staff generation at a time (``inbox.staff_generation``: renewed on
commit by every save or deletion of a user or group and every change of a user's
groups; None, so nothing kept, when ``DESK_STAFF_CACHE`` is off, while such a change
waits for its commit, or without a shared cache). The queue's choices are every queue:
kept per current queue for one queue generation (``QUEUES_GENERATION_KEY``, renewed
on commit by every save or deletion of a queue; the same switch). A bound form (with its errors) is
rendered afresh. A miss renders the field as before (``{{ form.field }}``), so the
markup is the widget's; no CSRF token, user or ticket reference is in it."""

from django.db.models.signals import post_delete, post_save
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from portal import cache as shared_cache

from ..models import Queue
from .forms import shown_value
from .inbox import staff_cache_enabled, staff_generation

# At most this many of each (the staff's languages times queues times assignees, or
# languages times priorities, in practice).
KEPT_SELECTS = 4096
_kept_assignee = shared_cache.KeptPerGeneration(
    KEPT_SELECTS
)  # (language, group, value)
_kept_priority: dict = {}  # {(language, value): html}
_kept_queue = shared_cache.KeptPerGeneration(KEPT_SELECTS)  # value
QUEUES_GENERATION_KEY = "tickets:desk-queues:generation"
# The inbox's staff lists, kept per staff list: the list (``inbox.desk_staff``'s
# (id, email, name)s) is its own generation, so a changed staff is a new one at once,
# whoever read it when. The options per selected value (any text of the query
# string), at most this many.
KEPT_STAFF_OPTIONS = 64
_kept_staff_options = shared_cache.KeptPerGeneration(KEPT_STAFF_OPTIONS)
_kept_staff_datalist = shared_cache.KeptPerGeneration(2)  # autoescape on, off


def assignee_select(form, ticket) -> str:
    """``{{ form.assignee }}`` of the workspace's ``AssignForm`` for ``ticket``."""
    if form.is_bound:
        return str(form["assignee"])
    generation = staff_generation()  # before the staff is read
    key = (get_language(), ticket.queue.agent_group_id, shown_value(form, "assignee"))
    return _kept_assignee.get(generation, key, lambda: str(form["assignee"]))


def priority_select(form) -> str:
    """``{{ form.priority }}`` of the workspace's ``PriorityForm``."""
    if form.is_bound:
        return str(form["priority"])
    key = (get_language(), shown_value(form, "priority"))
    html = _kept_priority.get(key)
    if html is None:
        html = str(form["priority"])
        if len(_kept_priority) < KEPT_SELECTS:
            _kept_priority[key] = html
    return html


def queue_select(form) -> str:
    """``{{ form.queue }}`` of the workspace's ``QueueForm`` (no translated text in
    it: queue names only)."""
    if form.is_bound:
        return str(form["queue"])
    generation = queues_generation()  # before the queues are read
    value = shown_value(form, "queue")
    return _kept_queue.get(generation, value, lambda: str(form["queue"]))


def staff_options(staff, selected, autoescape=True) -> str:
    """The inbox's assignee filter's staff ``<option>``s::

    {% for pk, email, name in staff %}<option value="{{ pk }}" {% if
    assignee_value == pk %}selected{% endif %}>{{ name }}</option>{% endfor %}
    """
    staff = tuple(staff)

    def build():
        escape = conditional_escape if autoescape else str
        return mark_safe(  # noqa: S308 - every value escaped here
            "".join(
                f'<option value="{escape(pk)}" '
                f"{'selected' if selected == pk else ''}>{escape(name)}</option>"
                for pk, _email, name in staff
            )
        )

    return _kept_staff_options.get(staff, (selected, autoescape), build)


def staff_datalist(staff, autoescape=True) -> str:
    """The bulk form's datalist of the staff's addresses::

    {% for pk, email, name in staff %}<option value="{{ email }}">{{ name
    }}</option>{% endfor %}
    """
    staff = tuple(staff)

    def build():
        escape = conditional_escape if autoescape else str
        return mark_safe(  # noqa: S308 - every value escaped here
            "".join(
                f'<option value="{escape(email)}">{escape(name)}</option>'
                for _pk, email, name in staff
            )
        )

    return _kept_staff_datalist.get(staff, autoescape, build)


def queues_generation() -> int | None:
    """The queues' generation; None when nothing may be kept (as ``staff_generation``)."""
    if staff_cache_enabled() and not shared_cache.renewal_pending(
        _new_queues_generation
    ):
        return shared_cache.generation(QUEUES_GENERATION_KEY)
    return None


def _new_queues_generation() -> None:
    shared_cache.renewal_ran(_new_queues_generation)
    shared_cache.new_generation(QUEUES_GENERATION_KEY)


def forget_queues(**kwargs) -> None:
    """A queue was saved or deleted: a new generation once the change commits."""
    shared_cache.renew_on_commit(_new_queues_generation)


def connect() -> None:
    """The receivers that keep the queue ``<select>`` current (``TicketsConfig``)."""
    for number, signal in enumerate((post_save, post_delete)):
        signal.connect(
            forget_queues, sender=Queue, dispatch_uid=f"tickets.desk.queues.{number}"
        )


def forget_kept_fields() -> None:
    """Empty this process's kept fields (tests)."""
    _kept_assignee.forget()
    _kept_queue.forget()
    _kept_priority.clear()
    _kept_staff_options.forget()
    _kept_staff_datalist.forget()
