"""``is_staff_member`` for templates: the staff-role owner (``accounts.roles``), so
that a page never decides "staff" from ``User.is_staff`` (a flag for Django's own
admin, kept in step by the role services but not the role itself)."""

from django import template

from accounts import roles

register = template.Library()


@register.filter
def is_staff_member(user) -> bool:
    return roles.is_staff_member(user)
