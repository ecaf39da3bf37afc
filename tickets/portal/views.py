"""Dashboard and ticket list."""

from django.contrib.auth.decorators import login_required
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from kb.queries import popular_articles

from .. import permissions
from ..forms import TicketListFilterForm
from . import queries

PER_PAGE = 20
DASHBOARD_ROWS = 5


@require_GET
@login_required
def dashboard(request):
    user = request.user
    tickets = queries.portal_tickets(user).open().order_by("-updated_at", "-pk")
    mine = tickets.filter(requester=user)
    shared = tickets.filter(organization__memberships__user=user).exclude(
        requester=user
    )
    return TemplateResponse(
        request,
        "tickets/portal/dashboard.html",
        {
            "my_tickets": list(mine[:DASHBOARD_ROWS]),
            "my_open_count": mine.count(),
            "shared_tickets": list(shared[:DASHBOARD_ROWS]),
            "recent_articles": queries.recent_articles(user),
            "popular_articles": popular_articles(user),
            "can_file": permissions.may_file(user),
        },
    )


@require_GET
@login_required
def ticket_list(request):
    form = TicketListFilterForm(request.GET)
    filters = form.values()
    page_obj = queries.ticket_list_page(
        request.user, filters, request.GET.get("page"), PER_PAGE
    )
    query = request.GET.copy()
    query.pop("page", None)
    return TemplateResponse(
        request,
        "tickets/portal/ticket_list.html",
        {
            "form": TicketListFilterForm(initial=filters),
            "filters": filters,
            "page_obj": page_obj,
            "tickets": page_obj.object_list,
            "querystring": query.urlencode(),
            "can_file": permissions.may_file(request.user),
        },
    )
