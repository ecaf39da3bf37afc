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
which applies those filters.

A reverse foreign key listed whole (``comments``, ``attachments``, ``events``) is
prefetched by the optimizer into a list assigned to the row (``listed_whole``,
``Prefetch(..., to_attr=...)``), which the field returns as is: Django otherwise
builds a manager and clones the prefetch queryset for every row of a page to hold
its results (bench FINDINGS G-7)."""

from collections.abc import Callable
from typing import Any

import strawberry_django
from django.core.exceptions import FieldDoesNotExist
from django.db.models import FileField, Prefetch, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.db.models.fields.related import ManyToOneRel
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.db.models.query_utils import DeferredAttribute
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.optimizer import is_optimized_by_prefetching

from .context import get_user

_LISTED = "_listed_"


def listed_attr(name: str) -> str:
    """The attribute holding a row's prefetched ``name`` list (``listed_whole``)."""
    return _LISTED + name


def _assignable(lookup, model, lookups) -> bool:
    """Whether ``lookup`` is the optimizer's prefetch of a reverse foreign key of
    ``model`` (its type's ``get_queryset`` applied: marked optimized by
    prefetching), which no other lookup goes through."""
    if not isinstance(lookup, Prefetch) or lookup.to_attr is not None:
        return False
    name = lookup.prefetch_through
    queryset = lookup.queryset
    if LOOKUP_SEP in name or queryset is None:
        return False
    if not is_optimized_by_prefetching(queryset):
        return False
    try:
        relation = model._meta.get_field(name)
    except FieldDoesNotExist:  # not a field: a to_attr of someone else's
        return False
    if type(relation) is not ManyToOneRel:  # not one-to-one, not many-to-many
        return False
    through = name + LOOKUP_SEP
    return not any(
        (other.prefetch_through if isinstance(other, Prefetch) else other).startswith(
            through
        )
        for other in lookups
    )


def listed_whole(queryset: QuerySet) -> QuerySet:
    """``queryset`` with the optimizer's prefetches of reverse foreign keys (and
    theirs, nested) assigned to each row as a list (``listed_attr``), where
    ``ModelField`` reads them; the same statements and rows."""
    lookups = queryset._prefetch_related_lookups
    if not lookups:
        return queryset
    rewritten = tuple(_assigned(lookup, queryset.model, lookups) for lookup in lookups)
    if all(new is old for new, old in zip(rewritten, lookups, strict=True)):
        return queryset
    return queryset.prefetch_related(None).prefetch_related(*rewritten)


def _assigned(lookup, model, lookups):
    if not isinstance(lookup, Prefetch) or lookup.queryset is None:
        return lookup
    inner = listed_whole(lookup.queryset)
    if not _assignable(lookup, model, lookups):
        if inner is lookup.queryset:
            return lookup
        return _copied(lookup, inner, lookup.to_attr)
    return _copied(lookup, inner, listed_attr(lookup.prefetch_through))


def _copied(lookup: Prefetch, queryset: QuerySet, to_attr: str | None) -> Prefetch:
    copied = Prefetch(lookup.prefetch_through, queryset=queryset, to_attr=to_attr)
    copied.__dict__.update(
        (key, value)
        for key, value in lookup.__dict__.items()
        if key not in copied.__dict__
    )
    return copied


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

    def get_result(self, source, info, args, kwargs):
        """The list ``listed_whole`` assigned to the row, when there is one: what
        strawberry-django returns for the prefetched relation (its result list)."""
        if (
            self.base_resolver is None
            and source is not None
            and self.is_list
            and not (self.is_connection or self.is_paginated)
        ):
            listed = getattr(source, "__dict__", {}).get(
                _LISTED + (self.django_name or self.python_name)
            )
            if listed is not None:
                return listed
        return super().get_result(source, info, args, kwargs)


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
