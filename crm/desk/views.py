"""The CRM desk pages: My tasks (list with filters and bulk complete, create, edit)
and the Organization 360 (details, contacts, open tickets, CSAT and SLA, the
timeline, the forms to log an interaction and add a task).

Over 400 lines until split: the Organization 360 views are due to move into crm/desk/organizations.py.

Thin like the tickets desk: parse the form, call one ``crm.services`` function,
render. Customers get 404 on every page; a task the user may not see is a 404, one
they see but may not change (viewers) a 403; bad input re-renders with the form's
errors (400). Nothing is written in those cases.
"""

import functools
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, F, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.models import Organization
from tickets import permissions as ticket_permissions
from tickets.desk import reports
from tickets.exceptions import TicketNotFound
from tickets.models import OPEN_STATUSES
from tickets.statistics import figures, read

from .. import permissions, services
from ..exceptions import PermissionDenied as CrmPermissionDenied
from ..models import OPEN_TASK_STATUSES, Task
from . import forms, timeline

PAGE_SIZE = 50
STATS_DAYS = 90


def crm_view(view):
    """The support team only; for anyone else the CRM does not exist."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not permissions.is_crm_user(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _forbidden(request, message):
    """403 with the reason, rendered: Wagtail's admin turns a raised
    ``PermissionDenied`` into a redirect to the dashboard."""
    return render(request, "crm/desk/forbidden.html", {"message": message}, status=403)


def _back(request, default):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect(target)
    return redirect(default)


def _form_errors(form, error: ValidationError) -> None:
    """Put a service's refusal on the form (its field when it names one of the
    form's)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- My tasks -------------------------------------------------------------------------


def task_rows(user, data, now):
    """The tasks list's queryset: mine (default) or all I may see, open (default),
    one status or any, optionally only overdue; overdue first, then by due time
    (undated last)."""
    qs = permissions.visible_tasks(user)
    if data.get("scope", "mine") != "all":
        qs = qs.for_assignee(user)
    status = data.get("status") or ""
    if status == "":
        qs = qs.open()
    elif status != "any":
        qs = qs.filter(status=status)
    if data.get("overdue"):
        qs = qs.overdue(now)
    overdue_first = Case(
        When(status__in=OPEN_TASK_STATUSES, due_at__lt=now, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        qs.select_related("assignee", "organization", "contact", "ticket")
        .annotate(overdue_rank=overdue_first)
        .order_by("overdue_rank", F("due_at").asc(nulls_last=True), "pk")
    )


@crm_view
def tasks_view(request):
    user = request.user
    now = timezone.now()
    filters = forms.TaskFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    qs = task_rows(user, data, now)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "crm/desk/tasks.html",
        {
            "filters": filters,
            "page": page,
            "now": now,
            "may_write": permissions.may_write(user),
            "form": forms.TaskForm(user=user) if permissions.may_write(user) else None,
            "query": params.urlencode(),
            "here": request.get_full_path(),
        },
    )


@crm_view
def task_create_view(request):
    user = request.user
    if not permissions.may_write(user):
        return _forbidden(request, _("Read-only accounts cannot create tasks."))
    # ``?ticket=HD-…`` / ``?organization=slug`` / ``?contact=email`` prefill the links
    initial = {
        name: request.GET.get(name, "")[:200]
        for name in ("organization", "contact", "ticket")
        if request.GET.get(name)
    }
    form = forms.TaskForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            task = services.create_task(
                user,
                title=data["title"],
                notes=data["notes"],
                due_at=data["due_at"],
                assignee=data["assignee"],
                status=data["status"],
                ticket=data["ticket"],
                organization=data["organization"],
                contact=data["contact"],
            )
        except CrmPermissionDenied as error:
            return _forbidden(request, str(error))
        except TicketNotFound:
            form.add_error("ticket", _("No such ticket."))
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request, _("Task “%(title)s” created.") % {"title": task.title}
            )
            return _back(request, reverse("helpdesk:tasks"))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "crm/desk/task_form.html", {"form": form, "task": None}, status=status
    )


@crm_view
def task_view(request, pk):
    user = request.user
    task = get_object_or_404(
        permissions.visible_tasks(user).select_related(
            "assignee", "created_by", "organization", "contact", "ticket"
        ),
        pk=pk,
    )
    may_change = permissions.may_change_task(user, task)
    form = forms.TaskEditForm(request.POST or None, user=user, task=task)
    if request.method == "POST":
        if not may_change:
            return _forbidden(request, _("Read-only accounts cannot change tasks."))
        if form.is_valid():
            try:
                services.update_task(user, task, **form.cleaned_data)
            except CrmPermissionDenied as error:  # an organization they do not work
                form.add_error("organization", str(error))
            except TicketNotFound:
                form.add_error("ticket", _("No such ticket."))
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Task saved."))
                return _back(request, reverse("helpdesk:tasks"))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "crm/desk/task_form.html",
        {"form": form, "task": task, "may_change": may_change},
        status=status,
    )


@require_POST
@crm_view
def tasks_bulk_view(request):
    """Complete the checked tasks, all or nothing (``services.complete_tasks``)."""
    user = request.user
    tasks_url = reverse("helpdesk:tasks")
    form = forms.BulkCompleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose at least one task."))
        return _back(request, tasks_url)
    try:
        completed = services.complete_tasks(user, form.cleaned_data["tasks"])
    except Task.DoesNotExist:
        messages.error(
            request, _("One of the chosen tasks does not exist: nothing was changed.")
        )
        return _back(request, tasks_url)
    except CrmPermissionDenied as error:
        messages.error(
            request, _("%(reason)s Nothing was changed.") % {"reason": error}
        )
        return _back(request, tasks_url)
    messages.success(
        request,
        ngettext("%(n)d task completed.", "%(n)d tasks completed.", len(completed))
        % {"n": len(completed)},
    )
    return _back(request, tasks_url)


# --- Organization 360 -----------------------------------------------------------------


def _organization_or_404(slug):
    return get_object_or_404(
        Organization.objects.select_related("account_manager"), slug=slug
    )


def _details_form(user, organization, data=None):
    supervisor = ticket_permissions.is_supervisor(user)
    initial = {
        name: getattr(organization, name) for name in services.ORGANIZATION_FIELDS
    }
    initial["account_manager"] = organization.account_manager_id
    return forms.OrganizationDetailsForm(
        data, initial=initial, may_choose_manager=supervisor
    )


def _stats(user, organization, now):
    """The organization's figures over the last ``STATS_DAYS`` days (today included)
    among the tickets the user may see: created, SLA met %, CSAT, each counted in the
    period its event happened — ``tickets.statistics``' own raw computation, narrowed
    to the organization — summarised as a report row (``reports.summarize``)."""
    last = timezone.localdate(now)
    first = last - timedelta(days=STATS_DAYS - 1)
    found = read.raw_facts(user, "organization", first, last, organization=organization)
    total = figures.Facts()
    for facts in found.values():
        total.add(facts)
    return reports.summarize(organization.name, total)


def organization_context(request, organization, **forms_given):
    user = request.user
    now = timezone.now()
    filters = forms.TimelineFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    page = timeline.page(
        user,
        organization,
        kinds=data.get("kind") or timeline.KINDS,
        start=data.get("start"),
        end=data.get("end"),
        number=request.GET.get("page"),
    )
    params = request.GET.copy()
    params.pop("page", None)
    may_write = permissions.may_write(user) and permissions.works_organization(
        user, organization
    )
    may_edit = permissions.may_edit_organization(user, organization)
    return {
        "organization": organization,
        "memberships": organization.memberships.select_related("user").order_by(
            "user__email"
        ),
        "open_tickets": ticket_permissions.visible_tickets(user)
        .filter(organization=organization, status__in=OPEN_STATUSES)
        .select_related("requester", "assignee")
        .order_by("-created_at")[:20],
        "stats": _stats(user, organization, now),
        "stats_days": STATS_DAYS,
        "filters": filters,
        "page": page,
        "now": now,
        "query": params.urlencode(),
        "may_edit": may_edit,
        "may_write": may_write,
        "details_form": forms_given.get("details_form")
        or (_details_form(user, organization) if may_edit else None),
        "interaction_form": forms_given.get("interaction_form")
        or (forms.InteractionForm(user=user) if may_write else None),
        "task_form": forms_given.get("task_form")
        or (
            forms.TaskForm(user=user, initial={"organization": organization.slug})
            if may_write
            else None
        ),
    }


@crm_view
def organization_view(request, slug):
    organization = _organization_or_404(slug)
    return render(
        request,
        "crm/desk/organization.html",
        organization_context(request, organization),
    )


@require_POST
@crm_view
def organization_details_view(request, slug):
    user = request.user
    organization = _organization_or_404(slug)
    if not permissions.may_edit_organization(user, organization):
        return _forbidden(
            request,
            _("Only supervisors and the account manager edit this organization."),
        )
    form = _details_form(user, organization, request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        if "account_manager" not in form.fields:
            data.pop("account_manager", None)
        try:
            services.update_organization_details(user, organization, **data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Organization details saved."))
            return redirect("helpdesk:organization", slug=organization.slug)
    context = organization_context(request, organization, details_form=form)
    return render(request, "crm/desk/organization.html", context, status=400)


@require_POST
@crm_view
def organization_interaction_view(request, slug):
    user = request.user
    organization = _organization_or_404(slug)
    denial = permissions.why_not_link(user, organization=organization)
    if denial:
        return _forbidden(request, denial[1])
    form = forms.InteractionForm(request.POST, user=user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.log_interaction(
                user,
                kind=data["kind"],
                subject=data["subject"],
                summary=data["summary"],
                happened_at=data["happened_at"],
                organization=organization,
                contact=data["contact"],
                ticket=data["ticket"],
            )
        except CrmPermissionDenied as error:
            return _forbidden(request, str(error))
        except TicketNotFound:
            form.add_error("ticket", _("No such ticket."))
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Interaction logged."))
            return redirect("helpdesk:organization", slug=organization.slug)
    context = organization_context(request, organization, interaction_form=form)
    return render(request, "crm/desk/organization.html", context, status=400)
