"""One ticket: the public conversation and what the customer may do with it.

Every button is shown only when ``permissions.can`` allows it (the status buttons: when
their ``tickets.actions`` action's ``check`` passes), and every POST goes through a
ticket service or that action, which checks again; a refusal becomes a message, never a
500.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from .. import actions, permissions, services, sla
from ..exceptions import PermissionDenied, TicketNotFound
from ..forms import RatingForm, ReplyForm, apply_service_errors
from ..uploads import encrypts_uploads
from .common import ticket_or_404

# The status buttons (``actions.PORTAL_ACTIONS``) → the message once done.
STATUS_ACTIONS = {
    "close": gettext_lazy("Thanks! Ticket %(ref)s is closed."),
    "reopen": gettext_lazy("Ticket %(ref)s is open again."),
    "withdraw": gettext_lazy("Ticket %(ref)s was withdrawn."),
}


def _duration(minutes: int) -> str:
    if minutes % (24 * 60) == 0 and minutes >= 48 * 60:
        days = minutes // (24 * 60)
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def expectation(ticket) -> dict | None:
    """What the customer may expect next, from the queue's SLA policy."""
    if not ticket.is_open:
        return None
    policy = sla.policy_for(ticket.queue)
    kind, due, state = sla.next_state(ticket)
    if kind == "first_response":
        minutes = policy.first_response_minutes(ticket.priority)
    else:
        minutes = policy.resolution_minutes(ticket.priority)
    return {
        "kind": kind,
        "target": _duration(minutes),
        "due": due,
        "late": state == sla.BREACHED,
        "paused": ticket.is_paused,
    }


def render_ticket(request, ticket, *, reply_form=None, rating_form=None, status=200):
    user = request.user
    permissions.prefetch_permissions(user, [ticket])
    comments = list(permissions.visible_comments(user, ticket))
    ticket_files = list(
        permissions.visible_attachments(user, ticket).filter(comment__isnull=True)
    )
    allowed = {
        action: permissions.can(user, action, ticket) for action in ("reply", "rate")
    }
    available = actions.available_actions(user, ticket, actions.PORTAL_ACTIONS)
    allowed.update(
        {name: actions.get(name) in available for name in actions.PORTAL_ACTIONS}
    )
    # What else the viewer may know about the ticket, from the one definition of the
    # customer's view (``tickets.permissions``) that GraphQL reads too: for customers
    # no tags or watchers, only the customer's kinds of events, people by name.
    return TemplateResponse(
        request,
        "tickets/portal/ticket_detail.html",
        {
            "ticket": ticket,
            "comments": comments,
            "ticket_files": ticket_files,
            "events": list(permissions.visible_events(user, ticket)),
            "tags": permissions.tags_visible_to(user, ticket),
            "watchers": permissions.watchers_visible_to(user, ticket),
            "viewer": user,
            "allowed": allowed,
            "expectation": expectation(ticket),
            "reply_form": reply_form or ReplyForm(),
            "rating_form": rating_form or RatingForm(),
            "is_requester": ticket.requester_id == user.pk,
        },
        status=status,
    )


@require_GET
@login_required
def ticket_detail(request, reference):
    return render_ticket(request, ticket_or_404(request.user, reference))


@encrypts_uploads
@require_POST
@login_required
def ticket_reply(request, reference):
    ticket = ticket_or_404(request.user, reference)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.reply(
                request.user,
                ticket,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except TicketNotFound:
            return redirect("tickets:portal_ticket_list")
        except ValidationError as error:
            apply_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your reply was added."))
            return redirect(ticket.get_absolute_url() + "#latest")
    return render_ticket(request, ticket, reply_form=form, status=400)


@require_POST
@login_required
def ticket_status(request, reference):
    ticket = ticket_or_404(request.user, reference)
    name = request.POST.get("action", "")
    if name not in STATUS_ACTIONS:
        messages.error(request, _("Unknown action."))
        return redirect(ticket.get_absolute_url())
    try:
        actions.get(name).execute(request.user, ticket)
    except (ValidationError, PermissionDenied, TicketNotFound) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, STATUS_ACTIONS[name] % {"ref": ticket.reference})
    return redirect(ticket.get_absolute_url())


@require_POST
@login_required
def ticket_rate(request, reference):
    ticket = ticket_or_404(request.user, reference)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.rate(
                request.user,
                ticket,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Thank you for rating our help."))
            return redirect(ticket.get_absolute_url())
    return render_ticket(request, ticket, rating_form=form, status=400)
