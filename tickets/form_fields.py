"""The portal forms' fields, made and cleaned with less work (``tickets.forms``).

- ``fields_copied_cheaply``: each form's ``fields`` are what ``copy.deepcopy`` of the
  class's fields gives, made without ``copy``'s generic steps.
- ``fields_copied_on_first_use``: the same copies, made when something first reads
  ``form.fields`` (or a ``BoundField``): a valid POST that only cleans its data and
  redirects makes none.
- ``PortalForm``: fields cleaned without their ``BoundField``s."""

import copy

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import Promise

# --- the fields each form gets, copied with less work ------------------------------
# ``BaseForm.__init__`` gives every form its own fields: ``copy.deepcopy`` of the
# class's ``base_fields``, through each field's and widget's ``__deepcopy__``, with
# ``copy``'s generic machinery for each object (~50 Python calls a text field, ~180 a
# choice field: ~880 for the new-ticket form, built for every filing).


# ``copy.copy`` of a field or a widget (plain objects: no ``__slots__``, no
# ``__copy__``, no ``__setstate__``) is a new instance with the same attributes:
# ``kind.__new__(kind)`` and its ``__dict__`` updated, written out below.

# What ``deepcopy`` returns itself for: these exact types, and lazy texts (``Promise``).
_ATOMS = frozenset((str, int, float, bool, type(None)))


def _flat_pairs(choices) -> bool:
    """Whether ``choices`` is a list of ``(value, label)`` tuples of text, numbers and
    lazy texts (no groups): what ``deepcopy`` and ``normalize_choices`` leave alone
    but for a new list (and, normalizing, new pairs). Each value and label is one of
    ``_ATOMS`` or a ``Promise``, tested inline: this runs for every pair of every
    choice field of every form made."""
    if type(choices) is not list:
        return False
    atoms = _ATOMS
    for pair in choices:
        if type(pair) is not tuple or len(pair) != 2:
            return False
        value, label = pair
        if not (type(value) in atoms or isinstance(value, Promise)):
            return False
        if not (type(label) in atoms or isinstance(label, Promise)):
            return False
    return True


def _widget_copy(widget, memo):
    """``copy.deepcopy(widget, memo)`` for a widget whose ``__deepcopy__`` is
    ``Widget``'s or ``ChoiceWidget``'s (their steps; the choices as ``normalize_choices``
    writes a copy of them); None for any other widget."""
    kind = type(widget)
    own = kind.__deepcopy__
    if own is not forms.Widget.__deepcopy__ and own is not _CHOICE_WIDGET_DEEPCOPY:
        return None
    key = id(widget)
    if key in memo:
        return memo[key]
    result = kind.__new__(kind)  # ``copy.copy``
    result.__dict__.update(widget.__dict__)
    result.attrs = widget.attrs.copy()
    if own is _CHOICE_WIDGET_DEEPCOPY:
        choices = widget.choices
        if _flat_pairs(choices):
            result._choices = [(value, label) for value, label in choices]
        else:
            result.choices = copy.copy(choices)
    memo[key] = result
    return result


_CHOICE_WIDGET_DEEPCOPY = forms.widgets.ChoiceWidget.__deepcopy__


def _field_copy(field, memo):
    """``copy.deepcopy(field, memo)``: ``Field.__deepcopy__``'s and
    ``ChoiceField.__deepcopy__``'s steps for a field whose ``__deepcopy__`` is one of
    them and whose widget's is ``_widget_copy``'s; ``deepcopy`` itself otherwise (a
    ``ModelChoiceField``, say)."""
    kind = type(field)
    own = kind.__deepcopy__
    if (
        own is not forms.Field.__deepcopy__
        and own is not forms.ChoiceField.__deepcopy__
    ):
        return copy.deepcopy(field, memo)
    key = id(field)
    if key in memo:
        return memo[key]
    result = kind.__new__(kind)  # ``copy.copy``
    result.__dict__.update(field.__dict__)
    memo[key] = result
    widget = _widget_copy(field.widget, memo)
    if widget is None:
        del memo[key]
        return copy.deepcopy(field, memo)
    result.widget = widget
    result.error_messages = field.error_messages.copy()
    result.validators = field.validators[:]
    if own is forms.ChoiceField.__deepcopy__:
        # deepcopy gives a new list of the same pairs (they copy to themselves)
        choices = field._choices
        flat = _flat_pairs(choices)
        result._choices = list(choices) if flat else copy.deepcopy(choices, memo)
    return result


class _FieldsCopied(dict):
    """A form class's ``base_fields`` whose ``deepcopy`` (each new form's
    ``fields``) is a plain dict of ``_field_copy``s: the objects ``copy.deepcopy``
    of the plain dict gives, with the same attributes, made with less work."""

    def __deepcopy__(self, memo):
        return {name: _field_copy(field, memo) for name, field in self.items()}


def without_field(base_fields, name):
    """``base_fields`` but ``name``, copied by each form as ``base_fields`` is."""
    kept = {key: field for key, field in base_fields.items() if key != name}
    if isinstance(base_fields, _FieldsCopied):
        return type(base_fields)(kept)
    return kept


def fields_copied_cheaply(form_class):
    """Class decorator: the forms of ``form_class`` (not its subclasses) get their
    fields through ``_FieldsCopied``."""
    form_class.base_fields = _FieldsCopied(form_class.base_fields)
    return form_class


# --- fields cleaned without their BoundFields ----------------------------------------
# ``BaseForm._clean_fields`` makes each field's ``BoundField`` to read its data: for a
# field with a lazy help text that is a translation (``BoundField.__init__`` evaluates
# ``field.help_text or ""``), ~40 Python calls a field, ~290 a filing, for objects a
# valid POST never shows. ``_cleaned_plainly`` reads what ``Field``'s and
# ``FileField``'s ``_clean_bound_field`` read of the ``BoundField`` (``data``, and
# ``initial`` where they use it) the way ``BoundField`` reads them; a form that shows
# its errors makes its ``BoundField``s when it renders, as it would have.

_PLAIN_CLEAN = forms.Field._clean_bound_field
_FILE_CLEAN = forms.FileField._clean_bound_field


def _cleaned_plainly(form, field, name):
    """``field._clean_bound_field(form[name])`` without the ``BoundField``; ``None``
    (nothing done) for a field this does not know to read as ``BoundField`` does."""
    own = type(field)._clean_bound_field
    if own is not _PLAIN_CLEAN and own is not _FILE_CLEAN:
        return None
    if (
        type(field).get_bound_field is not forms.Field.get_bound_field
        or (field.bound_field_class or form.bound_field_class or forms.BoundField)
        is not forms.BoundField
    ):
        return None
    needs_initial = own is _FILE_CLEAN or field.disabled
    if needs_initial:
        # ``BoundField.initial`` is kept once read: a callable initial would be
        # called again by a later render, so such a field keeps its BoundField
        if callable(form.initial.get(name, field.initial)):
            return None
        initial = form.get_initial_for_field(field, name)
    if field.disabled:
        value = initial
    else:
        value = form._widget_data_value(field.widget, form.add_prefix(name))
    return (field.clean(value, initial) if own is _FILE_CLEAN else field.clean(value),)


class PortalForm(forms.Form):
    """Labels without a trailing colon (the site's style)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def order_fields(self, field_order):
        """Django's, after ``BaseForm.__init__`` gave the form its fields: for a
        ``fields_copied_on_first_use`` form in the class's order, the copies are left
        for the first read of ``form.fields``; reordered, they are made now."""
        waiting = self.__dict__.get("fields")
        if type(waiting) is _NotCopiedYet:
            if field_order is None:
                del self.__dict__["fields"]
                self._fields_not_copied = waiting
                return
            self.fields = _FieldsCopied.__deepcopy__(waiting.base, {})
        super().order_fields(field_order)

    def _clean_fields(self):
        """``BaseForm._clean_fields`` (Django 5.2) step for step, each field's value
        read without making its ``BoundField`` where ``_cleaned_plainly`` can; the
        fields not copied yet (``fields_copied_on_first_use``) cleaned as the class's
        when their class only reads them (``_CLEANED_AS_READ``)."""
        cache = self._bound_fields_cache
        own = self.__dict__
        waiting = own.get("_fields_not_copied")
        for name, field in (self.fields if waiting is None else waiting.base).items():
            if waiting is not None:
                if "fields" in own:  # copied since (a hook, an error, a BoundField)
                    field = own["fields"][name]
                elif type(field) not in _CLEANED_AS_READ:
                    field = self.fields[name]  # copied now, cleaned as Django does
            try:
                cleaned = None if name in cache else _cleaned_plainly(self, field, name)
                if cleaned is None:
                    bf = self[name]
                    cleaned = (bf.field._clean_bound_field(bf),)
                self.cleaned_data[name] = cleaned[0]
                if hasattr(self, f"clean_{name}"):
                    value = getattr(self, f"clean_{name}")()
                    self.cleaned_data[name] = value
            except ValidationError as e:
                self.add_error(name, e)


# --- the copies made when first used -------------------------------------------------
# Django gives every form its own copies of the class's fields so that a change to one
# form's fields (a view setting a queryset, a template tag adding a class) never
# reaches another form. A form that is only bound, cleaned and dropped (a valid POST,
# redirected) changes none: ``fields_copied_on_first_use`` makes the copies when
# ``form.fields`` is first read, and ``PortalForm._clean_fields`` cleans the class's
# own fields until then for the field classes whose cleaning only reads the field
# (``_CLEANED_AS_READ``; any other is cleaned through its copy, made then).


class _NotCopiedYet:
    """What ``deepcopy`` of the ``base_fields`` of a ``fields_copied_on_first_use``
    form gives: those fields, to copy when ``form.fields`` is first read."""

    __slots__ = ("base",)

    def __init__(self, base):
        self.base = base


class _FieldsOnFirstUse(_FieldsCopied):
    def __deepcopy__(self, memo):
        return _NotCopiedYet(self)


class _CopiedOnFirstRead:
    """``form.fields`` of a form whose copies are not made yet (a non-data
    descriptor: once made, the form's own ``fields`` attribute is read, as on any
    form, and a form given ``fields`` keeps them)."""

    def __get__(self, form, owner=None):
        if form is None:
            return self
        try:
            waiting = form.__dict__.pop("_fields_not_copied")
        except KeyError:
            raise AttributeError("fields") from None
        fields = form.__dict__["fields"] = _FieldsCopied.__deepcopy__(waiting.base, {})
        return fields


#: Field classes whose ``clean`` reads the field and changes nothing on it (these
#: classes exactly: a subclass may clean its own way).
_CLEANED_AS_READ = {forms.CharField, forms.ChoiceField}


def cleaned_as_read(field_class):
    """Class decorator: ``field_class`` (itself, not its subclasses) cleans a value
    without changing the field, so that its class's field may be cleaned uncopied."""
    _CLEANED_AS_READ.add(field_class)
    return field_class


def fields_copied_on_first_use(form_class):
    """Class decorator for a ``PortalForm``: ``fields_copied_cheaply``'s copies, made
    when ``form.fields`` (or a ``BoundField``) is first read."""
    if not issubclass(form_class, PortalForm):
        raise TypeError("fields_copied_on_first_use: a PortalForm")
    form_class.base_fields = _FieldsOnFirstUse(form_class.base_fields)
    form_class.fields = _CopiedOnFirstRead()
    return form_class
