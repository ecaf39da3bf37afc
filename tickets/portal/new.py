"""Filing a ticket, with knowledge-base suggestions and the deflection beacon."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kb.queries import suggest_articles
from portal import cache as shared_cache
from portal import ratelimits
from portal.translations import translated

from .. import deflection, hooks, permissions, services
from ..exceptions import PermissionDenied
from ..forms import NewTicketForm, apply_service_errors
from ..models import EventKind, Source
from ..uploads import encrypts_uploads


def _suggestions(user, subject):
    """Server-side suggestions for a subject given in the URL (works without JS)."""
    if not subject:
        return []
    return suggest_articles(user, subject, 5)


def _signed_in(request):
    """The user instance behind ``request.user`` (a lazy proxy, evaluated by
    ``login_required``): the form, the service and its hooks read its attributes
    hundreds of times, each read through the proxy three calls."""
    user = request.user
    return getattr(user, "_wrapped", user) if user.is_authenticated else user


#: The success message of a filing (``gettext`` of it: ``translated``).
FILED = gettext_noop("Ticket %(ref)s filed. We will reply here and by email.")

# A reference as ``tickets.references`` writes it (``HD-000123``): what ``reverse``
# puts in the path unchanged (no character to quote, matches ``<str:…>``).
_PLAIN_REFERENCE = re.compile(r"[A-Za-z0-9_-]+\Z")
_PLACEHOLDER = "HD-0"
_kept_locations: dict = {}


def ticket_location(reference: str) -> str:
    """``reverse("tickets:portal_ticket", kwargs={"reference": reference})``: where a
    filing redirects. The path around the reference is reversed once per script
    prefix, URLconf and language (``reverse`` resolves the namespace and fills the
    pattern, ~165 Python calls a filing); a reference with any other character is
    reversed as before."""
    if not _PLAIN_REFERENCE.match(reference):
        return reverse("tickets:portal_ticket", kwargs={"reference": reference})
    key = (get_script_prefix(), get_urlconf(), get_language())
    around = _kept_locations.get(key)
    if around is None:
        path = reverse("tickets:portal_ticket", kwargs={"reference": _PLACEHOLDER})
        head, _found, tail = path.rpartition(_PLACEHOLDER)
        if len(_kept_locations) >= 64:  # a few prefixes and languages at most
            _kept_locations.clear()
        around = _kept_locations[key] = (head, tail)
    return around[0] + reference + around[1]


@encrypts_uploads
@require_http_methods(["GET", "POST"])
@login_required
def new_ticket(request):
    if request.method == "POST":
        # ``ratelimits.limit("ticket_create")``, with the generations the filing
        # will read (``generations_read_together``) read in the same round trip
        generations = hooks.generations_read(EventKind.CREATED)
        try:
            read_ahead = ratelimits.consume(
                "ticket_create", ratelimits.identity_of(request), read=generations
            )
        except ratelimits.RateLimited as error:
            return ratelimits.too_many_requests(request, error)
    user = _signed_in(request)
    if not permissions.may_file(user):
        raise Http404("No such page.")
    if request.method == "POST":
        # the form reads the requester's organizations under their generation
        # (``accounts.kept_organizations``): built in the filing's read-ahead block too
        with shared_cache.generations_read_together(*generations, found=read_ahead):
            form = NewTicketForm(request.POST, request.FILES, user=user)
            ticket = _filed(request, user, form) if form.is_valid() else None
        if ticket is not None:
            filed = translated((FILED,))[FILED]  # gettext, kept per language
            messages.success(request, filed % {"ref": ticket.reference})
            return HttpResponseRedirect(ticket_location(ticket.reference))
        suggestions = []
    else:
        subject = request.GET.get("subject", "").strip()[:200]
        form = NewTicketForm(user=user, initial={"subject": subject})
        suggestions = _suggestions(user, subject)
    return TemplateResponse(
        request,
        "tickets/portal/new_ticket.html",
        {"form": form, "suggestions": suggestions},
        status=400 if form.is_bound else 200,
    )


@require_POST
@login_required
def deflection_beacon(request):
    """``navigator.sendBeacon`` target: the customer opened a suggested article."""
    event = deflection.record_deflected(
        token=request.POST.get("token"),
        user=request.user,
        session_key=request.session.session_key or "",
        query=request.POST.get("query", ""),
        shown=request.POST.get("shown"),
        clicked_url=request.POST.get("clicked_url", ""),
    )
    if event is None:
        return JsonResponse({"error": _("Unknown form token.")}, status=400)
    return JsonResponse({"outcome": event.outcome}, status=202)


def _filed(request, user, form):
    """The ticket filed from the valid ``form``, or None with the services' errors
    put on the form."""
    data = form.cleaned_data
    filing = deflection.Filing(
        user=user,
        session_key=request.session.session_key or "",
        **form.deflection_data(),
    )
    try:
        with services.one_transaction():
            ticket = services.create_ticket(
                user,
                subject=data["subject"],
                description=data["description"],
                category=data["category"],
                priority=data["priority"],
                organization=form.chosen_organization,
                source=Source.PORTAL,
                attachments=data["attachments"],
                # PostgreSQL: the deflection row written by the ticket's statement
                more=filing.part if filing.at_once() else None,
            )
            filing.record(ticket)
    except ValidationError as error:
        apply_service_errors(form, error)
    except PermissionDenied as error:
        form.add_error(None, str(error))
    else:
        return ticket
    return None
