"""Forms of the customer portal. They parse and pre-check input so that errors show next
to the fields; the ticket services still decide and validate everything again.

The fields' copies and the cleaning fast path (``PortalForm``): ``tickets.form_fields``."""

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization

from . import services
from .attachments import validate_upload
from .form_fields import (
    PortalForm,
    cleaned_as_read,
    fields_copied_cheaply,
    fields_copied_on_first_use,
    without_field,
)
from .models import Category, Priority

MAX_FILES = 10


class MultipleFileInput(forms.FileInput):
    """``<input type=file multiple>`` (Django 5.2 needs the opt-in)."""

    allow_multiple_selected = True


@cleaned_as_read
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


@fields_copied_on_first_use
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
            self.base_fields = without_field(type(self).base_fields, "organization")
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
