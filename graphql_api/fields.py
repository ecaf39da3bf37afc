"""The field class of our model types.

strawberry resolves a *basic* field (no resolver, no extensions) by reading the
attribute, without building an ``Info``, converting arguments and chaining field
extensions; strawberry-django declares none of its fields basic, so every ``email``
or ``body`` of a page of 100 tickets paid for that machinery (some 600 times a
request). Here a field without resolver or extensions is basic when it is

* a plain column of the model (not a file), or
* a forward foreign key to a type with no ``get_queryset`` (no visibility filter to
  apply: ``requester``, ``author``, ``queue`` …).

``StrawberryDjangoField.get_result`` still reads the value (the optimizer's
``only``/``select_related`` cache, else a load, as before), and the optimizer still
sees the field. Reverse relations (``comments``, ``attachments``, ``events``) and
every relation to a type with ``get_queryset`` keep strawberry-django's resolution,
which applies those filters."""

from collections.abc import Callable
from typing import Any

import strawberry_django
from django.db.models import FileField
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.db.models.query_utils import DeferredAttribute
from strawberry_django.fields.field import StrawberryDjangoField

from .context import get_user


class ModelField(StrawberryDjangoField):
    @property
    def is_basic_field(self) -> bool:
        if self.base_resolver is not None or self.extensions:
            return False
        origin = self.origin_django_type  # the type declaring the field
        model = origin.model if origin is not None else None
        if model is None:
            return False
        attr = getattr(model, self.django_name or self.python_name, None)
        if self.is_relation:
            target = self.django_type
            return (
                isinstance(attr, ForwardManyToOneDescriptor)
                and target is not None
                and getattr(target, "get_queryset", None) is None
            )
        return isinstance(attr, DeferredAttribute) and not isinstance(
            attr.field, FileField
        )


class ViewerColumn(ModelField):
    """A column whose value depends on who asks: ``shown(viewer, row)`` decides,
    otherwise null. The rule needs the caller, so the field cannot be basic (a basic
    field gets no ``Info``), but it needs nothing else of a resolver: it reads the
    column the optimizer loaded (``only``) and the caller, without strawberry-django's
    resolver wrapping (the sync/async dispatch, argument copying and queryset hooks
    around a user function), which cost more than the rule itself on every
    requester's and author's ``email`` of a page (bench FINDINGS G-3)."""

    shown: Callable[[Any, Any], bool]

    def __copy__(self):
        copied = super().__copy__()
        copied.shown = self.shown
        return copied

    @property
    def is_basic_field(self) -> bool:
        return False

    def get_result(self, source, info, args, kwargs):
        return self.read(source, get_user(info))

    def read(self, row, viewer):
        """The value for ``viewer``: the column, or None where the rule hides it
        (also ``graphql_api.execution``'s way in, without an ``Info``)."""
        column = self.django_name or self.python_name
        return getattr(row, column) if self.shown(viewer, row) else None


def viewer_column(shown: Callable[[Any, Any], bool], *, description: str):
    """A ``ViewerColumn`` (declared under the column's name) shown where
    ``shown(caller, row)``."""
    field = strawberry_django.field(field_cls=ViewerColumn, description=description)
    field.shown = shown
    return field
