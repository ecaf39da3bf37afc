"""The Follow-up panel on a ticket's workspace (through the tickets desk's
``register_ticket_workspace_panel`` hook): the ticket's open tasks and latest
interactions as the user may see them, and for those who may write, "Add task" and
"Log interaction" linked to the ticket, its organization and its requester.

Customers have no panel (and every POST here is a 404 for them, as for a ticket the
user may not see); viewers read the lists without the forms, and their POST is a
403. Bad input re-renders the workspace with the form's errors (400), as the other
CRM pages do; nothing is written then. The panel costs a fixed number of queries
whatever the number of tasks and interactions.

The empty forms' bodies (error box and fields) are the same on every ticket: "Log
interaction" for each language, "Add task" for each language and user (their own name
is the preselected assignee) as long as the staff does not change (``tickets.desk.
inbox.staff_generation``). Their HTML is kept per process (no CSRF token, no ticket in
it); a form with errors is rendered afresh. The lists' statements are compiled once
(``permissions.KeptAbout``).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect
from django.template.context_processors import csrf
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import cache as shared_cache
from tickets import permissions as ticket_permissions
from tickets.desk import inbox, workspace
from tickets.exceptions import TicketNotFound

from .. import permissions, services
from ..exceptions import PermissionDenied as CrmPermissionDenied
from ..models import Interaction, Task
from . import forms
from .views import _forbidden, _form_errors, crm_view

RECENT_INTERACTIONS = 5
TASK_FORM, INTERACTION_FORM = "crm_task_form", "crm_interaction_form"
TASK_PREFIX, INTERACTION_PREFIX = "followup_task", "followup_interaction"
TEMPLATE = "crm/desk/panels/follow_up.html"
FIELDS_TEMPLATE = "crm/desk/panels/follow_up_fields.html"
# What ``str(user)`` reads (``accounts.models.User.get_display_name``): the people the
# lists name are read with these columns only (not the ~20 others of a user row).
NAME_FIELDS = ("display_name", "first_name", "last_name", "email")


def panel(request, ticket, panel_forms) -> str:
    """The panel's HTML for ``request.user`` on ``ticket`` (which they may see: the
    workspace is theirs); empty outside the support team."""
    user = _unwrapped(request.user)
    if not permissions.is_crm_user(user):
        return ""
    now = timezone.now()
    tasks = _OPEN_TASKS.instances(user, ticket)
    for task in tasks:
        task.overdue = task.is_overdue(now)
    interactions = _LATEST_INTERACTIONS.instances(user, ticket)
    context = {
        "ticket": ticket,
        "tasks": tasks,
        "interactions": interactions,
        "task_form": None,
        "interaction_form": None,
        "task_fields": "",
        "interaction_fields": "",
    }
    if permissions.may_write(user):
        task_form = panel_forms.get(TASK_FORM)
        if task_form is None:
            context["task_fields"] = _empty_task_fields(user)
        else:
            context["task_form"] = task_form
            context["task_fields"] = fields_html(task_form)
        interaction_form = panel_forms.get(INTERACTION_FORM)
        if interaction_form is None:
            context["interaction_fields"] = _empty_interaction_fields(get_language())
        else:
            context["interaction_form"] = interaction_form
            context["interaction_fields"] = fields_html(interaction_form)
    # The forms' CSRF token, masked when first shown (none for viewers), as the
    # request's context would give it; the panel reads nothing else of it.
    context.update(csrf(request))
    return render_to_string(TEMPLATE, context)


def _unwrapped(user):
    """The user behind ``request.user``'s lazy object (set up by the workspace, which
    read it first): the panel asks the policy about them a dozen times, and each
    attribute read through the lazy object is a few Python calls more."""
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        return user._wrapped
    return user


def _names(relation):
    return [f"{relation}__{name}" for name in NAME_FIELDS]


# The lists, read through the policy (``permissions.KeptAbout``): the ticket's open
# tasks, soonest due first (those without a date last), and its latest interactions.
_OPEN_TASKS = permissions.KeptAbout(
    Task,
    lambda rows: (
        rows.open()
        .select_related("assignee")
        .only("title", "due_at", "status", "assignee", *_names("assignee"))
        .order_by(F("due_at").asc(nulls_last=True), "pk")
    ),
)
_LATEST_INTERACTIONS = permissions.KeptAbout(
    Interaction,
    lambda rows: (
        rows.select_related("author", "contact")
        .only(
            "kind",
            "subject",
            "happened_at",
            "author",
            "contact",
            *_names("author"),
            *_names("contact"),
        )
        .order_by("-happened_at", "-pk")[:RECENT_INTERACTIONS]
    ),
)


def fields_html(form) -> str:
    """The form's body as the panel shows it: its error box
    (``includes/form_errors.html``, only a line break for a form without errors) and
    its fields, ``includes/field.html`` each."""
    return render_to_string(FIELDS_TEMPLATE, {"form": form})


def new_task_form(user):
    return forms.TicketTaskForm(user=user, prefix=TASK_PREFIX)


def new_interaction_form():
    return forms.TicketInteractionForm(prefix=INTERACTION_PREFIX)


# The empty forms' fields, kept per process. "Add task" lists the assignable staff:
# kept for one staff generation at a time, per (language, user); at most
# ``KEPT_TASK_FIELDS`` entries (the staff times the languages, in practice).
KEPT_TASK_FIELDS = 1024
_kept_task_fields = shared_cache.KeptPerGeneration(
    KEPT_TASK_FIELDS
)  # (language, user id)
_kept_interaction_fields: dict = {}  # {language: html}


def _empty_task_fields(user) -> str:
    generation = inbox.staff_generation()  # before the staff is read
    return _kept_task_fields.get(
        generation,
        (get_language(), user.pk),
        lambda: fields_html(new_task_form(user)),
    )


def _empty_interaction_fields(language) -> str:
    html = _kept_interaction_fields.get(language)
    if html is None:
        html = fields_html(new_interaction_form())
        _kept_interaction_fields[language] = html
    return html


def forget_kept_fields() -> None:
    """Empty this process's kept fields (tests)."""
    _kept_task_fields.forget()
    _kept_interaction_fields.clear()


def _ticket_or_404(user, reference):
    try:
        return ticket_permissions.get_ticket_for(user, reference)
    except TicketNotFound:
        raise Http404("No such ticket.") from None


def _back_to(ticket):
    return redirect("helpdesk:ticket", reference=ticket.reference)


def _with_errors(request, ticket, name, form):
    return workspace.render_page(request, ticket, panel_forms={name: form}, status=400)


@require_POST
@crm_view
def ticket_task_view(request, reference):
    """The Follow-up panel's "Add task" about the ticket: linked to it, its
    organization and its requester (when a customer)."""
    user = request.user
    ticket = _ticket_or_404(user, reference)
    if not permissions.may_write(user):
        return _forbidden(request, _("Read-only accounts cannot create tasks."))
    form = forms.TicketTaskForm(request.POST, user=user, prefix=TASK_PREFIX)
    if form.is_valid():
        data = form.cleaned_data
        try:
            task = services.create_task(
                user,
                title=data["title"],
                due_at=data["due_at"],
                assignee=data["assignee"],
                ticket=ticket,
            )
        except TicketNotFound:
            raise Http404("No such ticket.") from None
        except CrmPermissionDenied as error:
            return _forbidden(request, str(error))
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request, _("Task “%(title)s” created.") % {"title": task.title}
            )
            return _back_to(ticket)
    return _with_errors(request, ticket, TASK_FORM, form)


@require_POST
@crm_view
def ticket_interaction_view(request, reference):
    """The Follow-up panel's "Log interaction" about the ticket: linked to it, its
    organization and its requester (when a customer), ``services.log_interaction``'s
    own rule."""
    user = request.user
    ticket = _ticket_or_404(user, reference)
    if not permissions.may_write(user):
        return _forbidden(request, _("Read-only accounts cannot log interactions."))
    form = forms.TicketInteractionForm(request.POST, prefix=INTERACTION_PREFIX)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.log_interaction(
                user,
                kind=data["kind"],
                subject=data["subject"],
                summary=data["summary"],
                happened_at=data["happened_at"],
                ticket=ticket,
            )
        except TicketNotFound:
            raise Http404("No such ticket.") from None
        except CrmPermissionDenied as error:
            return _forbidden(request, str(error))
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Interaction logged."))
            return _back_to(ticket)
    return _with_errors(request, ticket, INTERACTION_FORM, form)
