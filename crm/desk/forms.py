"""Forms of the CRM desk pages. They parse input (a slug, an email, a reference
become objects); the services validate and act."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from portal.forms import OptionsSelect, SmallModelChoiceField
from tickets import permissions as ticket_permissions

from .. import permissions
from ..models import InteractionKind, TaskStatus
from ..services import TEXT_MAX, TITLE_MAX

MAX_ID = 2**63 - 1
DATETIME_WIDGET = forms.DateTimeInput(
    attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
)
DATE_WIDGET = forms.DateInput(attrs={"type": "date"})
FIRST_YEAR, LAST_YEAR = 1970, 2999


class TimeField(forms.DateTimeField):
    """A date and time between ``FIRST_YEAR`` and ``LAST_YEAR``: a year 1 or 9999 in
    the user's time zone may not even exist in UTC, where it is stored."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", DATETIME_WIDGET)
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise forms.ValidationError(
                _("Choose a date between 1970 and 2999."), code="out_of_range"
            )


class _Links(forms.Form):
    """Optional links by their visible handles: organization slug, contact email,
    ticket reference. Unknown ones are form errors; whether the user may link them is
    the service's question."""

    organization = forms.CharField(
        label=_("Organization (slug)"), required=False, max_length=100
    )
    contact = forms.EmailField(label=_("Contact (email)"), required=False)
    ticket = forms.CharField(label=_("Ticket reference"), required=False, max_length=20)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_organization(self):
        slug = self.cleaned_data["organization"].strip()
        if not slug:
            return None
        found = Organization.objects.filter(slug=slug).first()
        if found is None:
            raise forms.ValidationError(_("No such organization."))
        return found

    def clean_contact(self):
        email = self.cleaned_data["contact"].strip()
        if not email:
            return None
        found = (
            permissions.reachable_contacts(self.user)
            .filter(email__iexact=email)
            .first()
        )
        if found is None:
            raise forms.ValidationError(_("No such contact."))
        return found

    def clean_ticket(self):
        from tickets.exceptions import TicketNotFound
        from tickets.permissions import get_ticket_for

        reference = self.cleaned_data["ticket"].strip()
        if not reference:
            return None
        try:
            return get_ticket_for(self.user, reference)
        except TicketNotFound:
            raise forms.ValidationError(_("No such ticket.")) from None


class TaskForm(_Links):
    title = forms.CharField(label=_("Title"), max_length=200)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    due_at = TimeField(label=_("Due"), required=False)
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=get_user_model().objects.none()
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=TaskStatus.choices, initial=TaskStatus.TODO
    )

    field_order = [
        "title",
        "due_at",
        "assignee",
        "status",
        "notes",
        "organization",
        "contact",
        "ticket",
    ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["assignee"].queryset = permissions.assignable_staff()
        if not self.is_bound and "assignee" not in self.initial:
            self.initial["assignee"] = user.pk


class TaskEditForm(_Links):
    """What may change on an existing task, its links included (by the same handles
    as on creation, prefilled; emptied, a link is removed). A link the user may not see
    (another queue's ticket, a contact outside their organizations, on a task assigned
    to them) is neither shown nor changed: its field is left out."""

    title = forms.CharField(label=_("Title"), max_length=200)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    due_at = TimeField(label=_("Due"), required=False)
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=get_user_model().objects.none()
    )
    status = forms.ChoiceField(label=_("Status"), choices=TaskStatus.choices)

    field_order = TaskForm.field_order

    def __init__(self, *args, user, task, **kwargs):
        kwargs["initial"] = {
            "title": task.title,
            "notes": task.notes,
            "due_at": timezone.localtime(task.due_at) if task.due_at else None,
            "assignee": task.assignee_id,
            "status": task.status,
            "organization": task.organization.slug if task.organization_id else "",
            "contact": task.contact.email if task.contact_id else "",
            "ticket": task.ticket.reference if task.ticket_id else "",
        }
        super().__init__(*args, user=user, **kwargs)
        self.fields["assignee"].queryset = permissions.assignable_staff()
        self.ticket_visible = task.ticket_id is None or ticket_permissions.can(
            user, "view", task.ticket
        )
        if not self.ticket_visible:
            del self.fields["ticket"]
        if (
            task.contact_id
            and not permissions.reachable_contacts(user)
            .filter(pk=task.contact_id)
            .exists()
        ):
            del self.fields["contact"]


class InteractionForm(_Links):
    kind = forms.ChoiceField(label=_("Kind"), choices=InteractionKind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    summary = forms.CharField(
        label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    happened_at = TimeField(label=_("When"), required=False)

    field_order = ["kind", "subject", "happened_at", "summary", "contact", "ticket"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["organization"]  # logged on the organization page it is about


class TicketTaskForm(forms.Form):
    """The "Add task" form of a ticket's Follow-up panel: the links come from the
    ticket."""

    title = forms.CharField(label=_("Title"), max_length=200)
    due_at = TimeField(label=_("Due"), required=False)
    assignee = SmallModelChoiceField(
        label=_("Assignee"), queryset=get_user_model().objects.none()
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = permissions.assignable_staff()
        if not self.is_bound:
            self.initial.setdefault("assignee", user.pk)


class TicketInteractionForm(forms.Form):
    """The "Log interaction" form of a ticket's Follow-up panel: the links come from the
    ticket; the subject is the summary's first line."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=InteractionKind.choices, widget=OptionsSelect
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Its first line is the interaction's subject."),
    )
    happened_at = TimeField(
        label=_("When"), required=False, help_text=_("Empty for now.")
    )

    def clean(self):
        data = super().clean()
        summary = data.get("summary") or ""
        first = next(
            (line.strip() for line in summary.splitlines() if line.strip()), ""
        )
        if len(first) > TITLE_MAX:
            first = first[: TITLE_MAX - 1].rstrip() + "…"
        data["subject"] = first
        return data


class OrganizationDetailsForm(forms.Form):
    website = forms.CharField(label=_("Website"), required=False, max_length=300)
    industry = forms.CharField(label=_("Industry"), required=False, max_length=100)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=50)
    address = forms.CharField(
        label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    account_manager = forms.ModelChoiceField(
        label=_("Account manager"),
        queryset=get_user_model().objects.none(),
        required=False,
    )

    def __init__(self, *args, may_choose_manager: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if may_choose_manager:
            self.fields["account_manager"].queryset = permissions.assignable_staff()
        else:
            del self.fields["account_manager"]


SCOPES = [("mine", _("Mine")), ("all", _("All I may see"))]


class TaskFilterForm(forms.Form):
    scope = forms.ChoiceField(label=_("Show"), choices=SCOPES, required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Open")), *TaskStatus.choices, ("any", _("Any"))],
        required=False,
    )


class BulkCompleteForm(forms.Form):
    tasks = forms.TypedMultipleChoiceField(coerce=int, required=True, label=_("Tasks"))

    def clean_tasks(self):
        return self.cleaned_data["tasks"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # any id is a choice: whether the user may change it is the service's question
        values = self.data.getlist("tasks") if hasattr(self.data, "getlist") else []
        self.fields["tasks"].choices = [
            (v, v) for v in values if str(v).isdigit() and 0 < int(v) <= MAX_ID
        ]


TIMELINE_KINDS = [
    ("tickets", _("Tickets")),
    ("interactions", _("Interactions")),
    ("tasks", _("Tasks")),
]


class TimelineFilterForm(forms.Form):
    kind = forms.MultipleChoiceField(
        label=_("Show"),
        choices=TIMELINE_KINDS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    start = forms.DateField(label=_("From"), required=False, widget=DATE_WIDGET)
    end = forms.DateField(label=_("To"), required=False, widget=DATE_WIDGET)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        for name in ("start", "end"):
            value = data.get(name)
            if value and not 1970 <= value.year <= 2999:
                self.add_error(name, _("Choose a date between 1970 and 2999."))
        return data
