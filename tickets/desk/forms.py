"""Forms of the agent desk. They only parse input: the services validate and act."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.functional import SimpleLazyObject
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from portal.forms import OptionsSelect, PlainTextInput, SmallModelChoiceField

from .. import lifecycle, permissions, services
from ..forms import fields_copied_cheaply
from ..models import CannedResponse, Priority, Queue, Status
from . import reports
from .inbox import PAGE_SIZES

# The largest id SQLite (64-bit INTEGER) and PostgreSQL (bigint) can hold: a larger
# number in a filter overflows the database driver instead of matching nothing.
MAX_ID = 2**63 - 1


@fields_copied_cheaply
class FilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.MultipleChoiceField(
        label=_("Status"), choices=Status.choices, required=False
    )
    priority = forms.MultipleChoiceField(
        label=_("Priority"), choices=Priority.choices, required=False
    )
    queue = forms.ModelChoiceField(
        label=_("Queue"),
        queryset=Queue.objects.none(),
        required=False,
        to_field_name="slug",
    )
    # A text box, not a <select>: one <option> per organization cost ~150 ms and
    # 45 kB per inbox render at 1,000 organizations (bench FINDINGS D-1). It takes a
    # name or a slug (one indexed query); the desk's script offers names as you type
    # from ``organization_suggestions``.
    organization = forms.CharField(
        label=_("Organization"), required=False, max_length=200
    )
    assignee = forms.CharField(label=_("Assignee"), required=False, max_length=20)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)
    per_page = forms.TypedChoiceField(
        label=_("Per page"),
        choices=[(n, n) for n in PAGE_SIZES],
        coerce=int,
        required=False,
        empty_value=PAGE_SIZES[0],
    )

    def __init__(self, *args, queues, **kwargs):
        """``queues``: the queryset of the queues the user works, or None when no
        queue is asked for (the field reads it only to clean a value)."""
        super().__init__(*args, **kwargs)
        if queues is not None:
            self.fields["queue"].queryset = queues

    def clean_organization(self):
        value = self.cleaned_data["organization"].strip()
        if not value:
            return None
        found = list(
            Organization.objects.filter(Q(slug=value) | Q(name__iexact=value))[:3]
        )
        by_slug = [org for org in found if org.slug == value]
        if by_slug:
            return by_slug[0]
        if len(found) == 1:
            return found[0]
        if found:
            raise forms.ValidationError(
                _("Several organizations have that name: choose one from the list.")
            )
        raise forms.ValidationError(_("No organization has that name."))

    def clean_assignee(self):
        """ "none", a user id (an int) or empty. ``str.isdigit`` alone also accepts
        "²" and other Unicode digits that ``int()`` refuses."""
        value = self.cleaned_data["assignee"].strip()
        if value in ("", "none"):
            return value
        if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= MAX_ID:
            raise forms.ValidationError(_("Choose “none” or a user id."))
        return int(value)


BULK_ACTIONS = [
    ("assign", _("Assign to")),
    ("status", _("Set status")),
    ("priority", _("Set priority")),
    ("tags", _("Add tags")),
]


class BulkForm(forms.Form):
    references = forms.CharField(widget=forms.MultipleHiddenInput)
    action = forms.ChoiceField(label=_("Action"), choices=BULK_ACTIONS)
    assignee = forms.CharField(
        label=_("Assignee (email, or “me”, or “none”)"), required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", "—"), *Status.choices], required=False
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=[("", "—"), *Priority.choices], required=False
    )
    tags = forms.CharField(label=_("Tags (comma separated)"), required=False)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.reference_list = data.getlist("references") if data is not None else []

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if not self.reference_list:
            raise forms.ValidationError(_("Select at least one ticket."))
        if len(self.reference_list) > 200:
            raise forms.ValidationError(_("Select at most 200 tickets at a time."))
        if action and action != "assign" and not cleaned.get(action):
            self.add_error(action, _("This field is required for this action."))
        return cleaned


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the ticket services validate type and size."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )
    internal = forms.BooleanField(label=_("Internal note (staff only)"), required=False)
    canned = forms.ModelChoiceField(
        label=_("Canned response"),
        queryset=CannedResponse.objects.none(),
        required=False,
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)
    # "Submit as": the status a public reply leaves the ticket in (the service checks
    # it against the lifecycle table); empty keeps the status, a new ticket turns open.
    submit_as = forms.ChoiceField(
        label=_("Send and set status"),
        choices=[("", _("Keep the status (a new ticket becomes Open)"))]
        + [(status.value, status.label) for status in lifecycle.REPLY_STATUSES],
        required=False,
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["canned"].queryset = canned_for(ticket)


def canned_for(ticket):
    """Canned responses offered on ``ticket``: its queue's and the shared ones."""
    return CannedResponse.objects.filter(
        Q(queue__isnull=True) | Q(queue_id=ticket.queue_id)
    ).order_by("title")


class StatusForm(forms.Form):
    """Any status parses; the lifecycle table in the service decides what is allowed
    (the template only offers the allowed moves)."""

    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    reason = forms.CharField(
        label=_("Reason (for rejection)"),
        required=False,
        max_length=services.MAX_REASON_LENGTH,
    )


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, widget=OptionsSelect
    )


class AssignForm(forms.Form):
    assignee = SmallModelChoiceField(
        label=_("Assignee"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("Unassigned"),
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = permissions.assignable_agents(ticket)
        self.fields["assignee"].initial = ticket.assignee_id


class QueueForm(forms.Form):
    queue = SmallModelChoiceField(
        label=_("Queue"), queryset=Queue.objects.all(), empty_label=None
    )


class TagsForm(forms.Form):
    tags = forms.CharField(
        label=_("Tags (comma separated)"),
        required=False,
        max_length=1200,
        widget=PlainTextInput,
    )


class WatcherForm(forms.Form):
    email = forms.EmailField(label=_("Email (empty: yourself)"), required=False)
    remove = forms.BooleanField(required=False, widget=forms.HiddenInput)


class MergeForm(forms.Form):
    target = forms.CharField(label=_("Merge into ticket (reference)"), max_length=20)


class TimeForm(forms.Form):
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=24 * 60)
    note = forms.CharField(label=_("Note"), required=False, max_length=255)


class Unbuilt(SimpleLazyObject):
    """An unbound form of the workspace, built (by ``build()``) the first time
    anything reads it. What its markup needs without it: it is unbound, so it has no
    errors (``{% form_errors_box %}``); the value each field shows, ``shown``
    (``form[name].value()`` of the built form: its initial values; or a function
    giving them, called on the first read), read by
    ``shown_value`` (the kept ``<select>``s of ``kept_fields`` are keyed by it); and
    the choices its class declares, read by ``field_choices``. A page that shows a
    form only through those never builds it. (Any other read builds it, a template's
    ``{{ form.field }}`` too: the template asks the helpers instead.)"""

    is_bound = False

    def __init__(self, build, shown=None, form_class=None):
        super().__init__(build)
        self.__dict__["_shown"] = shown or {}
        self.__dict__["form_class"] = form_class

    @property
    def shown(self) -> dict:
        """``shown``, or what a function given for it returns, worked out once on
        the first read (values read from the ticket's relations: the tags)."""
        shown = self.__dict__["_shown"]
        if callable(shown):
            shown = self.__dict__["_shown"] = shown()
        return shown


def shown_value(form, name):
    """The value ``form[name]`` shows: ``value()``, or what an ``Unbuilt`` form will
    show (it is not built for it)."""
    if isinstance(form, Unbuilt):
        return form.shown[name]
    return form[name].value()


def _field(form, name):
    """``form.fields[name]``; an ``Unbuilt`` form's is the one its class declares (it
    is not built for it): only for a field the form's ``__init__`` leaves as declared."""
    if isinstance(form, Unbuilt):
        return form.form_class.base_fields[name]
    return form.fields[name]


def field_choices(form, name):
    """``form.fields[name].choices``; an ``Unbuilt`` form's are those its class
    declares (it is not built for them): only for a field whose choices the form's
    ``__init__`` leaves as declared (not a queryset's)."""
    return _field(form, name).choices


def field_max_length(form, name):
    """``form.fields[name].max_length``, as ``field_choices`` reads the field."""
    return _field(form, name).max_length


# ``{{ form.tags }}`` of an unbound ``TagsForm``: the markup of its empty value, and
# the markup around a value, each rendered once by the form itself (its widget, id
# and attributes name no language, user or ticket); the value goes in escaped, as
# ``PlainTextInput`` puts it (``conditional_escape`` of the text).
_TAGS_SLOT = "tagsslot7a9d"
_tags_markup: dict = {}


def tags_input(form) -> str:
    """``{{ form.tags }}`` of the workspace's ``TagsForm``: a bound one (a failed
    POST shown again, errors and all) renders itself; an ``Unbuilt`` one is not built
    for it: the value it shows (``shown_value``) goes into the kept markup."""
    if not isinstance(form, Unbuilt):
        return str(form["tags"])
    if not _tags_markup:
        around = str(TagsForm(initial={"tags": _TAGS_SLOT})["tags"]).split(_TAGS_SLOT)
        if len(around) != 2:
            raise ValueError("tags_input: the value is not shown once in the markup")
        _tags_markup.update(empty=str(TagsForm()["tags"]), around=tuple(around))
    value = form.shown["tags"]
    if value in ("", None):  # ``TextInput.format_value``: no value attribute
        return _tags_markup["empty"]
    before, after = _tags_markup["around"]
    return mark_safe(before + conditional_escape(str(value)) + after)


class ReportForm(forms.Form):
    """A dimension, and either a whole week / month / year (``period``; ``start``
    then picks which one, today's by default) or any range up to two years."""

    dimension = forms.ChoiceField(
        label=_("Group by"),
        choices=list(reports.DIMENSION_NAMES.items()),
        required=False,
    )
    period = forms.ChoiceField(
        label=_("Period"),
        choices=[("", _("Date range")), *reports.PERIODS.items()],
        required=False,
    )
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[reports.validate_report_date],
    )
    end = forms.DateField(
        label=_("To (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[reports.validate_report_date],
    )

    def clean(self):
        """The effective range (``reports.date_range`` fills in what is missing) must
        run forwards and span at most two years; each date lies within
        ``EARLIEST``..``LATEST`` (the fields' validators), so no date arithmetic on
        the range can leave the calendar (``end=9999-12-31``, ``end=0001-01-05``)."""
        cleaned = super().clean()
        if self.errors:
            return cleaned
        start, end = self.dates()
        if start > end:
            raise forms.ValidationError(
                _("The start date must not be after the end date.")
            )
        if (end - start).days > 366 * 2:
            raise forms.ValidationError(_("Choose a range of at most two years."))
        return cleaned

    def dates(self):
        """(first, last day) asked for: the period containing ``start`` (today by
        default), else the range with ``reports.date_range``'s defaults."""
        data = self.cleaned_data
        if data.get("period"):
            return reports.period_dates(data["period"], data.get("start"))
        return reports.date_range(data.get("start"), data.get("end"))


def error_text(form) -> str:
    """A form's errors as plain lines ("Field: message"), for answers that are not
    HTML (a refused CSV export)."""
    lines = [str(message) for message in form.non_field_errors()]
    for field in form:
        lines += [f"{field.label}: {message}" for message in field.errors]
    return "\n".join(lines) + "\n"
