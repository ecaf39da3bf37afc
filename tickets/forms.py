"""Forms of the customer portal. They parse and pre-check input so that errors show next
to the fields; the ticket services still decide and validate everything again.

Over 400 lines until split: the cleaning fast path (``PortalForm``) could move to its
own module beside the forms that use it."""

import copy
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization

from . import services
from .attachments import validate_upload
from .models import Category, Priority

MAX_FILES = 10


class MultipleFileInput(forms.FileInput):
    """``<input type=file multiple>`` (Django 5.2 needs the opt-in)."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A list of uploaded files, each checked by ``tickets.attachments``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            files = [f for f in data if f]
        else:
            files = [data] if data else []
        if len(files) > MAX_FILES:
            raise ValidationError(
                _("Attach at most %(n)d files at a time.") % {"n": MAX_FILES}
            )
        single = super().clean
        errors = []
        cleaned = []
        for file in files:
            try:
                file = single(file, initial)
                validate_upload(file)
            except ValidationError as error:
                errors.extend(error.messages)
            else:
                cleaned.append(file)
        if errors:
            raise ValidationError(errors)
        return cleaned


def apply_service_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError next to the matching fields (or on top)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, message.messages)
    else:
        form.add_error(None, error.messages)


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


def _without(base_fields, name):
    """``base_fields`` but ``name``, copied by each form as ``base_fields`` is."""
    kept = {key: field for key, field in base_fields.items() if key != name}
    return _FieldsCopied(kept) if isinstance(base_fields, _FieldsCopied) else kept


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

    def _clean_fields(self):
        """``BaseForm._clean_fields`` (Django 5.2) step for step, each field's value
        read without making its ``BoundField`` where ``_cleaned_plainly`` can."""
        cache = self._bound_fields_cache
        for name, field in self.fields.items():
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


@fields_copied_cheaply
class TicketListFilterForm(PortalForm):
    """The list page's query string; anything unknown falls back to the default."""

    STATUS_CHOICES = [
        ("open", _("Open")),
        ("closed", _("Closed")),
        ("all", _("All")),
    ]
    SCOPE_CHOICES = [
        ("all", _("Mine and shared")),
        ("mine", _("Mine")),
        ("organization", _("Shared by colleagues")),
    ]
    ORDER_CHOICES = [
        ("-updated", _("Recently updated")),
        ("-created", _("Newest first")),
        ("created", _("Oldest first")),
        ("priority", _("Priority")),
    ]

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"), choices=STATUS_CHOICES, required=False
    )
    scope = forms.ChoiceField(label=_("Whose"), choices=SCOPE_CHOICES, required=False)
    order = forms.ChoiceField(label=_("Order"), choices=ORDER_CHOICES, required=False)

    def values(self) -> dict:
        defaults = {"q": "", "status": "open", "scope": "all", "order": "-updated"}
        if not self.is_valid():
            # keep the valid parts of a tampered query string
            data = {}
            for name, default in defaults.items():
                value = self.data.get(name, default)
                field = self.fields[name]
                try:
                    data[name] = field.clean(value) or default
                except ValidationError:
                    data[name] = default
            return data
        return {k: self.cleaned_data.get(k) or v for k, v in defaults.items()}


@fields_copied_cheaply
class NewTicketForm(PortalForm):
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        help_text=_("One line: what is wrong or what you need."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=services.MAX_BODY_LENGTH,
        help_text=_("What happened, what you expected, and steps to reproduce it."),
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=Category.choices, initial=Category.TECHNICAL
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.MEDIUM
    )
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        # set by ``__init__`` when offered (the field is removed otherwise): None
        # here, so that copying the field for each form copies no queryset
        queryset=None,
        required=False,  # none chosen: the service's default organization
        empty_label=None,
        help_text=_(
            "Colleagues may see the ticket if the organization shares tickets."
        ),
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        help_text=lazy(
            lambda: (
                gettext("Screenshots, logs or documents; up to %(n)d files.")
                % {"n": MAX_FILES}
            ),
            str,
        )(),
    )
    # Filled by the suggestions script (see static/portal/new_ticket.js); tampered
    # values are cleaned to harmless defaults by tickets.deflection, never refused.
    deflection_token = forms.CharField(
        required=False, max_length=64, widget=forms.HiddenInput
    )
    suggestions_shown = forms.CharField(
        required=False, max_length=10, widget=forms.HiddenInput
    )
    suggestion_clicked = forms.CharField(
        required=False, max_length=2000, widget=forms.HiddenInput
    )

    def __init__(self, *args, user, **kwargs):
        organizations = services.organizations_for_filing(user)
        offered = len(organizations) > 1
        if not offered:
            # the fields but the organization's: not copied for this form only to be
            # removed (a ``ModelChoiceField``: ``deepcopy``'s generic steps, ~70 calls)
            self.base_fields = _without(type(self).base_fields, "organization")
        try:
            super().__init__(*args, **kwargs)
        finally:
            self.__dict__.pop("base_fields", None)
        if offered:
            field = self.fields["organization"]
            field.queryset = Organization.objects.filter(memberships__user=user)
            # the <select> shows the list read above (Django's widget would read the
            # queryset twice: once for ``use_required_attribute``, once to render)
            field.widget.choices = [
                (o.pk, field.label_from_instance(o)) for o in organizations
            ]
            if not self.is_bound:
                default = services.default_organization(user)
                self.initial.setdefault("organization", default and default.pk)
        if not self.is_bound:
            self.initial.setdefault("deflection_token", str(uuid.uuid4()))

    @property
    def chosen_organization(self):
        """The organization the customer picked, or None: ``services.create_ticket``
        then files it under the requester's default organization."""
        return self.cleaned_data.get("organization")

    def deflection_data(self) -> dict:
        return {
            "token": self.cleaned_data.get("deflection_token"),
            "query": self.cleaned_data.get("subject", ""),
            "shown": self.cleaned_data.get("suggestions_shown"),
            "clicked_url": self.cleaned_data.get("suggestion_clicked"),
        }


@fields_copied_cheaply
class ReplyForm(PortalForm):
    body = forms.CharField(
        label=_("Your reply"),
        max_length=services.MAX_BODY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    attachments = MultipleFileField(label=_("Attachments"))


@fields_copied_cheaply
class RatingForm(PortalForm):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you with the help you received?"),
        choices=[(i, str(i)) for i in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_("1 = very unhappy, 5 = very happy."),
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=services.MAX_RATING_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
