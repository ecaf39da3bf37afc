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
markup is the widget's; no CSRF token, user or ticket reference is in it.

The inbox's filter bar (``inbox_filters``) is kept too, with its free text left as
slots: see there."""

import re
import secrets

from django.db.models.signals import post_delete, post_save
from django.urls import get_script_prefix, get_urlconf
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


# The inbox's filter bar (``templates/tickets/desk/_inbox_filters.html``): at most
# this many (languages times views times selected filters, in practice), per staff list.
FILTER_BAR = "tickets/desk/_inbox_filters.html"
KEPT_FILTER_BARS = 256
_kept_filter_bars = shared_cache.KeptPerGeneration(KEPT_FILTER_BARS)
# Where the bar shows text typed into the query string, the kept bar holds a slot:
# NUL (never in text from PostgreSQL, never in a request's escaped output) and a
# token drawn per process (no queue or staff name can spell it).
_SLOT_TOKEN = secrets.token_hex(8)
FILTER_SLOTS = ("filter_q", "filter_organization", "filter_tag", "filter_order")
_SLOTS = {name: f"\x00{_SLOT_TOKEN}:{name}\x00" for name in FILTER_SLOTS}
_SLOT = re.compile(f"\x00{_SLOT_TOKEN}:(\\w+)\x00")


def inbox_filters(context) -> str:
    """The inbox's saved views and filter bar (``{% inbox_filters %}``), as the
    template renders them in ``context`` (the inbox view's).

    The bar without its free text (the search, organization and tag boxes and the
    hidden order, any text of the query string) depends only on what the key holds:
    the language, autoescaping, the URL's prefix and urlconf, the view, the user's
    queues (id, slug, name) and the selected one, the submitted queue, status,
    priority, assignee and page-size values (valid ones: a form with errors is
    rendered afresh, its errors quote the values) and the summaries built of them,
    and the staff (the generation, as ``staff_options``). It is rendered once per
    key with a slot for each free text; each page fills the slots with the text,
    escaped as ``{{ }}`` escapes it."""
    form = context["form"]
    free = {
        "filter_q": form["q"].value() or "",
        "filter_organization": form["organization"].value() or "",
        "filter_tag": form["tag"].value() or "",
        "filter_order": context["order"],
    }
    bar = context.template.engine.get_template(FILTER_BAR)
    if form.errors:
        with context.push(**free):
            return bar.render(context)
    queue = getattr(form, "cleaned_data", {}).get("queue")
    try:  # what ``{% url %}`` reverses with
        current_app = context.request.current_app
    except AttributeError:
        try:
            current_app = context.request.resolver_match.namespace
        except AttributeError:
            current_app = None
    key = (
        get_language(),
        context.autoescape,
        get_script_prefix(),
        get_urlconf(),
        current_app,
        context["view"],
        tuple((q.pk, q.slug, q.name) for q in context["queues"]),
        None if queue is None else queue.pk,
        context["queue_value"],
        tuple(form["status"].value() or ()),
        tuple(form["priority"].value() or ()),
        str(context["status_summary"]),
        str(context["priority_summary"]),
        context["assignee_value"],
        tuple(context["per_page_options"]),
    )

    def build():
        with context.push(**_SLOTS):
            return bar.render(context)

    kept = _kept_filter_bars.get(tuple(context["staff"]), key, build)
    escape = conditional_escape if context.autoescape else str
    filled = {name: escape(value) for name, value in free.items()}
    return mark_safe(  # noqa: S308 - the kept bar is the template's, the text escaped
        _SLOT.sub(lambda slot: filled[slot.group(1)], kept)
    )


# The inbox's bulk form (``templates/tickets/desk/_inbox_bulk.html``): its labels and
# ``<option>``s are the code's, translated, and its datalist the staff's.
BULK_FORM = "tickets/desk/_inbox_bulk.html"
_kept_bulk_forms = shared_cache.KeptPerGeneration(KEPT_FILTER_BARS)


def inbox_bulk(context) -> str:
    """The inbox's bulk form (``{% inbox_bulk %}``), as the template renders it in
    ``context`` (the inbox view's): it depends only on the language (its labels and
    ``bulk_options``), autoescaping and the staff (the generation, as
    ``staff_datalist``), so it is rendered once per language and staff list."""
    form = context.template.engine.get_template(BULK_FORM)
    return _kept_bulk_forms.get(
        tuple(context["staff"]),
        (get_language(), context.autoescape),
        lambda: form.render(context),
    )


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
    _kept_filter_bars.forget()
    _kept_bulk_forms.forget()
