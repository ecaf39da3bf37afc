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

from django.db.models import FileField
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.db.models.query_utils import DeferredAttribute
from strawberry_django.fields.field import StrawberryDjangoField


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
