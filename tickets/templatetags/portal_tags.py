"""Presentation helpers for the portal templates."""

from django import template
from django.template.defaultfilters import timesince_filter
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from .. import permissions
from ..models import EventKind, Priority, Status
from ..portal.common import STATUS_TONE

register = template.Library()

# value → (lazy) label, as ``get_status_display`` / ``get_priority_display`` give them
# without rebuilding a hashable copy of the choices on every call.
STATUS_LABELS = dict(Status.choices)
PRIORITY_LABELS = dict(Priority.choices)


@register.filter
def status_tone(status: str) -> str:
    """The badge colour family of a status (info, warn, ok, danger, muted)."""
    return STATUS_TONE.get(status, "muted")


@register.filter
def status_label(status: str) -> str:
    """``ticket.get_status_display``: the translated label, else the raw value."""
    return str(STATUS_LABELS.get(status, status))


@register.filter
def priority_label(priority: str) -> str:
    """``ticket.get_priority_display``: the translated label, else the raw value."""
    return str(PRIORITY_LABELS.get(priority, priority))


@register.filter
def ago(value) -> str:
    """ "3 days ago": the same text as ``{% blocktrans with since=value|timesince %}{{
    since }} ago{% endblocktrans %}`` (same message id), without a block tag per row."""
    since = conditional_escape(timesince_filter(value))
    return mark_safe(gettext("%(since)s ago") % {"since": since})  # noqa: S308


@register.simple_tag
def page_url(querystring: str, number) -> str:
    """``?<filters>&page=N`` keeping the list's filters."""
    prefix = f"{querystring}&" if querystring else ""
    return f"?{prefix}page={number}"


@register.filter
def shown_to(person, viewer) -> str:
    """``{{ comment.author|shown_to:viewer }}``: the name ``viewer`` may see for a person
    (``permissions.name_shown_to``: never a support agent's address for a customer)."""
    return permissions.name_shown_to(viewer, person)


@register.filter
def event_change(event) -> str:
    """What an event changed, in words: "Open → Resolved", a file name, "4/5" …"""
    if event.kind == EventKind.CREATED:
        return ""
    if event.kind == EventKind.RATED:
        return f"{event.new_value}/5"
    old, new = event.old_label, event.new_label  # labels from the model choices
    if old and new:
        return f"{old} → {new}"
    return new or old
