"""Presentation helpers for the portal templates."""

from django import template

from ..portal.common import STATUS_TONE

register = template.Library()


@register.filter
def status_tone(status: str) -> str:
    """The badge colour family of a status (info, warn, ok, danger, muted)."""
    return STATUS_TONE.get(status, "muted")


@register.simple_tag
def page_url(querystring: str, number) -> str:
    """``?<filters>&page=N`` keeping the list's filters."""
    prefix = f"{querystring}&" if querystring else ""
    return f"?{prefix}page={number}"
