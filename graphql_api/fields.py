"""The field class of our model types.

strawberry resolves a *basic* field (no resolver, no extensions) by reading the
attribute, without building an ``Info``, converting arguments and chaining field
extensions; strawberry-django declares none of its fields basic, so every ``email``
or ``body`` of a page of 100 tickets paid for that machinery (some 600 times a
request). A plain column of the model (not a relation, not a file) is basic here:
``StrawberryDjangoField.get_result`` still reads it (and loads it if deferred), the
optimizer still sees the field and selects its column."""

from django.db.models import FileField
from django.db.models.query_utils import DeferredAttribute
from strawberry_django.fields.field import StrawberryDjangoField


class ModelField(StrawberryDjangoField):
    @property
    def is_basic_field(self) -> bool:
        if self.base_resolver is not None or self.extensions or self.is_relation:
            return False
        origin = self.origin_django_type  # the type declaring the field
        model = origin.model if origin is not None else None
        if model is None:
            return False
        attr = getattr(model, self.django_name or self.python_name, None)
        return isinstance(attr, DeferredAttribute) and not isinstance(
            attr.field, FileField
        )
