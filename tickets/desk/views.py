"""Views of the agent desk, mounted under ``/admin/helpdesk/`` by ``wagtail_hooks``
(so Wagtail's admin-access check runs first). Thin: parse input, ask
``tickets.permissions``, call one ``tickets.services`` function, render.

A ticket the user may not see is a 404; a visible ticket on which the action is not
allowed answers 403 with the reason; bad input re-renders the workspace with the form
error (400). Nothing is written in those cases.

Over 400 lines until split: the organizations and reports views are due to move to
tickets/desk/organizations.py and reports' own views module.
"""

import functools
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Avg, Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy, gettext_noop, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organization
from portal import cache as shared_cache
from portal.translations import translated

from .. import actions, permissions, services
from ..canned import render_canned_response
from ..exceptions import TicketNotFound
from ..models import OPEN_STATUSES
from ..pagination import CappedPaginator
from ..uploads import encrypts_uploads
from . import bulk as bulk_actions
from . import exports, forms, inbox, report_views, reports, trend, workspace
from .access import is_desk_user, may_act, my_queue_list, my_queues

COLUMNS = [
    ("reference", gettext_lazy("Reference")),
    ("subject", gettext_lazy("Subject")),
    ("requester", gettext_lazy("Requester")),
    ("organization", gettext_lazy("Organization")),
    ("status", gettext_lazy("Status")),
    ("priority", gettext_lazy("Priority")),
    ("assignee", gettext_lazy("Assignee")),
    ("due", gettext_lazy("Due")),
    ("updated", gettext_lazy("Updated")),
]
# The page's own words (the template prints them as ``{% trans %}`` printed them: a
# translation is not escaped)
PAGE_TEXTS = {
    "title": gettext_noop("Helpdesk inbox"),
    "select": gettext_noop("Select"),
    "empty": gettext_noop("No tickets here."),
    "pages": gettext_noop("Pages"),
    "previous": gettext_noop("Previous"),
    "next": gettext_noop("Next"),
}


def desk_view(view):
    """Only helpdesk roles use the desk; for anyone else it does not exist."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_desk_user(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _ticket_or_404(user, reference):
    try:
        return permissions.get_ticket_for(user, reference)
    except TicketNotFound:
        raise Http404("No such ticket.")


# --- inbox ----------------------------------------------------------------------------


_ANY = gettext_noop("Any")


def _chosen(field, values) -> str:
    """What a multiple-choice filter's closed dropdown says: the chosen labels, or
    "Any" (translated once per language: ``translated``)."""
    values = set(values or ())
    labels = [str(label) for value, label in field.choices if value in values]
    return ", ".join(labels) or translated((_ANY,))[_ANY]


def _options(field, value):
    """``(value, label, selected)`` of a choice field's ``<option>``s, marked as
    Django's ``Select`` widget marks them (``None`` is ""); the template prints them
    without a widget template per ``<select>``."""
    value = "" if value is None else str(value)
    return [(str(v), str(label), str(v) == value) for v, label in field.choices]


_ORDER_PARAMETERS: dict = {}  # order: its encoded parameter


def _with_order(rest: str, order: str) -> str:
    """``query(order=order, page=None)`` of ``inbox_view`` for the query string
    ``rest`` (``request.GET`` without order and page, encoded)."""
    encoded = _ORDER_PARAMETERS.get(order)
    if encoded is None:
        encoded = urlencode({"order": order})
        if len(_ORDER_PARAMETERS) < 2 * len(COLUMNS):  # the columns' orders
            _ORDER_PARAMETERS[order] = encoded
    return f"?{rest}&{encoded}" if rest else f"?{encoded}"


# per language (a lazy label's translation looks through every catalogue: ~70 Python
# calls each, ~40 labels a page)
_COLUMN_LABELS: dict = {}
_BULK_OPTIONS: dict = {}


def _page_texts() -> dict:
    """``PAGE_TEXTS`` translated into the active language (``translated``), safe as
    ``{% trans %}`` makes a translation."""
    found = translated(tuple(PAGE_TEXTS.values()))
    return {
        key: mark_safe(found[msgid])  # noqa: S308 - the catalogue's, as {% trans %}
        for key, msgid in PAGE_TEXTS.items()
    }


def _column_labels() -> list[tuple[str, str]]:
    """``COLUMNS`` with their labels translated into the active language."""
    language = get_language()
    labels = _COLUMN_LABELS.get(language)
    if labels is None:
        labels = _COLUMN_LABELS[language] = [
            (key, str(label)) for key, label in COLUMNS
        ]
    return labels


def _bulk_options() -> dict:
    """The bulk form's ``<option>``s (``_options`` of its action, status and priority
    fields, none selected) in the active language."""
    language = get_language()
    options = _BULK_OPTIONS.get(language)
    if options is None:
        options = _BULK_OPTIONS[language] = {
            name: _options(field, None)
            for name, field in forms.BulkForm.base_fields.items()
            if name in ("action", "status", "priority")
        }
    return options


@desk_view
def inbox_view(request):
    """The inbox page. The generations its kept values are read under (the agent
    groups': the worked queues; the staff's: the assignee filter and the bulk form)
    are read in one round trip (``portal.cache.generations_read_together``)."""
    keys = []
    if permissions.agent_groups_kept():
        keys.append(permissions.AGENT_GROUPS_GENERATION_KEY)
    if inbox.staff_cache_enabled():
        keys.append(inbox.STAFF_GENERATION_KEY)
    with shared_cache.generations_read_together(*keys):
        return _inbox_page(request)


def _inbox_page(request):
    user = request.user
    view = request.GET.get("view") or inbox.DEFAULT_VIEW
    if view not in inbox.SAVED_VIEW_SLUGS:
        view = inbox.DEFAULT_VIEW
    # the nav, the queue filter and the "queues" view: the rows kept by the policy
    queues = my_queue_list(user)
    # the queue field reads its queryset only to clean a queue asked for
    asked = my_queues(user) if request.GET.get("queue") else None
    form = forms.FilterForm(request.GET or None, queues=asked)
    form.is_valid()  # a filter that does not validate is shown with its error, unused
    data = getattr(form, "cleaned_data", {})
    qs, order = inbox.inbox_queryset(
        user, view, data, queues, request.GET.get("order", "")
    )
    per_page = data.get("per_page") or inbox.PAGE_SIZES[0]
    paginator = CappedPaginator(inbox.for_listing(qs), per_page)
    page = paginator.get_page(request.GET.get("page"))
    rows = inbox.listing_rows(page.object_list)

    def query(**changes):
        params = request.GET.copy()
        for key, value in changes.items():
            params.pop(key, None)
            if value not in (None, ""):
                params[key] = value
        return "?" + params.urlencode() if params else "?"

    # ``query(order=…, page=None)`` for every column: the rest of the query string
    # encoded once, the order put last as ``query`` puts it
    rest = request.GET.copy()
    rest.pop("order", None)
    rest.pop("page", None)
    rest = rest.urlencode()
    columns = [
        (
            key,
            label,
            _with_order(rest, f"-{key}" if order == key else key),
            "ascending" if order == key else "descending" if order == f"-{key}" else "",
        )
        for key, label in _column_labels()
    ]
    return render(
        request,
        "tickets/desk/inbox.html",
        {
            "view": view,
            "saved_views": inbox.SAVED_VIEWS,
            "queues": queues,
            "form": form,
            # the raw submitted values, for marking the selected <option>s
            "queue_value": form["queue"].value() or "",
            "status_summary": _chosen(form.fields["status"], form["status"].value()),
            "priority_summary": _chosen(
                form.fields["priority"], form["priority"].value()
            ),
            "assignee_value": form["assignee"].value() or "",
            "page": page,
            "rows": rows,
            "columns": columns,
            "order": order,
            "may_act": may_act(user),
            "per_page_options": _options(
                form.fields["per_page"], form["per_page"].value()
            ),
            "bulk_options": _bulk_options(),
            "staff": inbox.desk_staff(),
            "prev_url": query(page=page.previous_page_number())
            if page.has_previous()
            else "",
            "next_url": query(page=page.next_page_number()) if page.has_next() else "",
            "here": request.get_full_path(),
            "texts": _page_texts(),
        },
    )


@desk_view
def organization_suggestions_view(request):
    """``{"results": [{"name", "slug"}, …]}``: up to 10 organizations whose name or
    slug contains ``?q=`` (at least 2 characters), for the inbox's organization filter.
    Desk users only (everyone else: 404), like the organization pages."""
    text = request.GET.get("q", "").strip()[:100]
    if len(text) < 2:
        return JsonResponse({"results": []})
    found = (
        Organization.objects.filter(Q(name__icontains=text) | Q(slug__icontains=text))
        .order_by("name", "slug")
        .values("name", "slug")[:10]
    )
    return JsonResponse({"results": list(found)})


def _back(request, default):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect(target)
    return redirect(default)


@require_POST
@desk_view
def bulk_view(request):
    user = request.user
    inbox_url = reverse("helpdesk:inbox")
    if not may_act(user):
        messages.error(request, _("Read-only accounts cannot change tickets."))
        return _back(request, inbox_url)
    form = forms.BulkForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(request, inbox_url)
    data = form.cleaned_data
    try:
        assignee = (
            bulk_actions.resolve_assignee(user, data["assignee"])
            if data["action"] == "assign"
            else None
        )
        result = bulk_actions.apply(
            user,
            form.reference_list,
            data["action"],
            assignee=assignee,
            status=data["status"],
            priority=data["priority"],
            tags=data["tags"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(request, inbox_url)
    if result.done:
        messages.success(
            request,
            ngettext(
                "Updated %(count)d ticket(s): %(refs)s",
                "Updated %(count)d ticket(s): %(refs)s",
                len(result.done),
            )
            % {"count": len(result.done), "refs": ", ".join(result.done)},
        )
    for reference, reason in result.failed:
        messages.error(request, f"{reference}: {reason}")
    return _back(request, inbox_url)


# --- workspace ------------------------------------------------------------------------


def _render_workspace(request, ticket, *, overrides=None, status=200):
    return workspace.render_page(
        request, ticket, form_overrides=overrides, status=status
    )


@desk_view
def ticket_view(request, reference):
    ticket = _ticket_or_404(request.user, reference)
    return _render_workspace(request, ticket)


def _attach(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _comment(request, ticket):
    user = request.user
    form = forms.CommentForm(request.POST, request.FILES, ticket=ticket)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    canned = data.get("canned")
    if "insert_canned" in request.POST:
        if canned is None:
            form.add_error("canned", _("Choose a canned response to insert."))
            return form, None
        text = render_canned_response(canned, ticket, user)
        body = f"{data['body']}\n\n{text}".strip() if data["body"] else text
        filled = forms.CommentForm(
            initial={"body": body, "internal": data["internal"]}, ticket=ticket
        )
        return filled, "preview"
    body = data["body"] or (
        render_canned_response(canned, ticket, user) if canned else ""
    )
    files = data.get("attachments") or []
    if data["internal"]:
        services.add_internal_note(user, ticket, body=body, attachments=files)
        return form, _("Internal note added.")
    services.reply(
        user, ticket, body=body, attachments=files, submit_as=data["submit_as"] or None
    )
    return form, _("Reply sent.")


def _status(request, ticket):
    form = forms.StatusForm(request.POST)
    if form.is_valid():
        status = form.cleaned_data["status"]
        actions.for_status(status).execute(
            request.user, ticket, status=status, reason=form.cleaned_data["reason"]
        )
        return form, _("Status changed.")
    return form, None


def _priority(request, ticket):
    form = forms.PriorityForm(request.POST)
    if form.is_valid():
        services.change_priority(request.user, ticket, form.cleaned_data["priority"])
        return form, _("Priority changed.")
    return form, None


def _assign(request, ticket):
    if "self" in request.POST:
        services.self_assign(request.user, ticket)
        return forms.AssignForm(ticket=ticket), _("Assigned to you.")
    form = forms.AssignForm(request.POST, ticket=ticket)
    if form.is_valid():
        services.assign(request.user, ticket, form.cleaned_data["assignee"])
        return form, _("Assignee changed.")
    return form, None


def _queue(request, ticket):
    form = forms.QueueForm(request.POST)
    if form.is_valid():
        services.move_queue(request.user, ticket, form.cleaned_data["queue"])
        return form, _("Moved to another queue.")
    return form, None


def _tags(request, ticket):
    form = forms.TagsForm(request.POST)
    if form.is_valid():
        services.set_tags(request.user, ticket, form.cleaned_data["tags"])
        return form, _("Tags saved.")
    return form, None


def _watch(request, ticket):
    form = forms.WatcherForm(request.POST)
    if not form.is_valid():
        return form, None
    email = form.cleaned_data["email"]
    who = None
    if email:
        who = get_user_model().objects.filter(email__iexact=email).first()
        if who is None:
            form.add_error("email", _("No user with this email address."))
            return form, None
    if form.cleaned_data["remove"]:
        services.remove_watcher(request.user, ticket, who)
        return form, _("Watcher removed.")
    services.add_watcher(request.user, ticket, who)
    return form, _("Watcher added.")


def _merge(request, ticket):
    form = forms.MergeForm(request.POST)
    if not form.is_valid():
        return form, None
    try:
        target = permissions.get_ticket_for(request.user, form.cleaned_data["target"])
    except TicketNotFound:
        form.add_error("target", _("No such ticket."))
        return form, None
    services.merge(request.user, ticket, target)
    return form, _("Merged into %(ref)s.") % {"ref": target.reference}


def _time(request, ticket):
    form = forms.TimeForm(request.POST)
    if form.is_valid():
        services.log_time(
            request.user,
            ticket,
            minutes=form.cleaned_data["minutes"],
            note=form.cleaned_data["note"],
        )
        return form, _("Time logged.")
    return form, None


ACTIONS = {
    "comment": ("comment_form", _comment),
    "status": ("status_form", _status),
    "priority": ("priority_form", _priority),
    "assign": ("assign_form", _assign),
    "queue": ("queue_form", _queue),
    "tags": ("tags_form", _tags),
    "watch": ("watcher_form", _watch),
    "merge": ("merge_form", _merge),
    "time": ("time_form", _time),
}


@encrypts_uploads
@require_POST
@desk_view
def ticket_action_view(request, reference, action):
    if action not in ACTIONS:
        raise Http404
    ticket = _ticket_or_404(request.user, reference)
    form_name, handler = ACTIONS[action]
    try:
        form, outcome = handler(request, ticket)
    except TicketNotFound:
        raise Http404("No such ticket.")
    except PermissionDenied as exc:
        permissions.invalidate(ticket)
        messages.error(request, str(exc) or _("You cannot do this."))
        return _render_workspace(request, ticket, status=403)
    except ValidationError as exc:
        ticket.refresh_from_db()
        bound = _rebind(request, ticket, action)
        _attach(bound, exc)
        return _render_workspace(
            request, ticket, overrides={form_name: bound}, status=400
        )
    if outcome == "preview":
        return _render_workspace(request, ticket, overrides={form_name: form})
    if outcome is None:
        return _render_workspace(
            request, ticket, overrides={form_name: form}, status=400
        )
    messages.success(request, outcome)
    if action == "merge":
        return redirect(ticket.merged_into.get_admin_url())
    return redirect(reverse("helpdesk:ticket", args=[ticket.reference]))


def _rebind(request, ticket, action):
    """The action's form bound to the posted data, for showing a service's error."""
    if action == "comment":
        form = forms.CommentForm(request.POST, ticket=ticket)
    elif action == "assign":
        form = forms.AssignForm(request.POST, ticket=ticket)
    else:
        form = {
            "status": forms.StatusForm,
            "priority": forms.PriorityForm,
            "queue": forms.QueueForm,
            "tags": forms.TagsForm,
            "watch": forms.WatcherForm,
            "merge": forms.MergeForm,
            "time": forms.TimeForm,
        }[action](request.POST)
    form.is_valid()
    return form


# --- organizations --------------------------------------------------------------------


def _organization_numbers(user):
    """Per organization: visible tickets, open ones, CSAT average — one query."""
    rows = (
        permissions.visible_tickets(user)
        .filter(organization__isnull=False)
        .order_by()
        .values("organization")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
            csat=Avg("satisfaction_rating"),
            rated=Count("satisfaction_rating"),
        )
    )
    return {row["organization"]: row for row in rows}


CONTACT_RESULTS = 50


def _matching_contacts(text: str):
    """Customers (no staff role) whose name, email, job title or phone contains
    ``text``, with their organizations, for the organizations page's search."""
    from accounts import roles

    staff = get_user_model().objects.filter(
        Q(groups__name__in=roles.STAFF_ROLES) | Q(is_superuser=True)
    )
    return (
        get_user_model()
        .objects.filter(
            Q(display_name__icontains=text)
            | Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
            | Q(email__icontains=text)
            | Q(job_title__icontains=text)
            | Q(phone__icontains=text)
        )
        .exclude(pk__in=staff.values("pk"))
        .prefetch_related("memberships__organization")
        .order_by("email")[:CONTACT_RESULTS]
    )


@desk_view
def organizations_view(request):
    """Every organization with its numbers; ``?q=`` searches organizations (name,
    slug, website, industry) and contacts (name, email, job title, phone)."""
    text = request.GET.get("q", "").strip()[:100]
    numbers = _organization_numbers(request.user)
    organizations = Organization.objects.annotate(
        member_count=Count("memberships")
    ).order_by("name")
    if text:
        organizations = organizations.filter(
            Q(name__icontains=text)
            | Q(slug__icontains=text)
            | Q(website__icontains=text)
            | Q(industry__icontains=text)
        )
    rows = [(org, numbers.get(org.pk, {})) for org in organizations]
    contacts = _matching_contacts(text) if text else []
    return render(
        request,
        "tickets/desk/organizations.html",
        {"rows": rows, "q": text, "contacts": contacts},
    )


# --- reports --------------------------------------------------------------------------


REPORT_PAGE_SIZE = 50


@desk_view
def reports_view(request):
    form = forms.ReportForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    export_format = request.GET.get("format")
    as_file = export_format in exports.FORMATS
    if as_file and not valid:
        return HttpResponse(
            forms.error_text(form),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    data = form.cleaned_data if form.is_bound and valid else {}
    dimension = data.get("dimension") or "queue"
    period = data.get("period") or None
    start, end = form.dates() if data else reports.date_range(None, None)
    rows = reports.cached_report_rows(
        request.user, dimension, start, end, period=period
    )
    if as_file:  # every row, whatever page the link was on
        return exports.download(rows, dimension, start, end, export_format)
    # The page shows REPORT_PAGE_SIZE rows at a time, in the report's order, and the
    # total over all of them; only the rows shown are formatted.
    page = Paginator(rows[:-1], REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
    number = reports.NumberFormat()
    query = request.GET.copy()
    query.pop("page", None)
    params = query.copy()
    params["format"] = "csv"
    xlsx_params = query.copy()
    xlsx_params["format"] = "xlsx"
    return render(
        request,
        "tickets/desk/reports.html",
        {
            "form": form,
            "rows": rows,
            "page": page,
            "shown": [(row.label, row.display(number)) for row in page],
            "total": (rows[-1].label, rows[-1].display(number)),
            "query": query.urlencode(),
            "dimension": dimension,
            "start": start,
            "end": end,
            "period": period,
            "headers": reports.headers(dimension),
            "csv_url": "?" + params.urlencode(),
            "xlsx_url": "?" + xlsx_params.urlencode(),
            "trend_charts": trend.trend_charts(request.user, today=end),
            "weekly_email": report_views.weekly_email_context(request),
        },
        status=200 if valid else 400,
    )
