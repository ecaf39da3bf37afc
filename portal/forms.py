"""Form fields shared by the domain apps' forms."""

from django import forms
from django.forms.models import ModelChoiceIterator


class ReadOnceChoiceIterator(ModelChoiceIterator):
    """Django's iterator, reading the field's queryset as one plain SELECT kept for
    the form's lifetime. Django's own reads ``queryset.iterator()``: on PostgreSQL a
    server-side cursor (DECLARE … WITH HOLD, FETCH, CLOSE round trips, the result
    materialised at commit), and again each time the choices are asked for (a
    required ``<select>`` asks twice: its options, and whether the first is empty).
    For a ``<select>`` of a few dozen rows one read is enough."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        # The field's own copy of the queryset (``ModelChoiceField.queryset`` is
        # copied per form), so the rows are cached for this form only.
        for obj in self.queryset:
            yield self.choice(obj)


class SmallModelChoiceField(forms.ModelChoiceField):
    """A ``ModelChoiceField`` over a short list (queues, assignable people): its
    choices are read in one query per form (``ReadOnceChoiceIterator``); validation
    still looks the submitted value up in the database."""

    iterator = ReadOnceChoiceIterator
