"""Wagtail admin pages: account approvals, locking, and the security audit. Only for
``permissions.can_review_accounts``; anyone else gets a 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from . import permissions, services
from .forms import NoteForm, ReasonForm
from .models import ApprovalStatus, SecurityEvent, User

PAGE_SIZE = 50


def _require_reviewer(request):
    if not permissions.can_review_accounts(request.user):
        raise Http404


def approvals(request):
    _require_reviewer(request)
    query = request.GET.get("q", "").replace("\x00", "").strip()  # PostgreSQL: no NUL
    pending = User.objects.filter(approval_status=ApprovalStatus.PENDING).order_by(
        "date_joined"
    )
    page = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("page"))
    locked = User.objects.filter(locked_at__isnull=False).order_by("-locked_at")[:100]
    found = (
        User.objects.filter(email__icontains=query).order_by("email")[:50]
        if query
        else None
    )
    return TemplateResponse(
        request,
        "accounts/admin/approvals.html",
        {"page": page, "locked": locked, "found": found, "query": query},
    )


ACTIONS = {
    "approve": (NoteForm, services.approve_user, "note", _("Account approved.")),
    "reject": (ReasonForm, services.reject_user, "reason", _("Account rejected.")),
    "lock": (ReasonForm, services.lock_user, "reason", _("Account locked.")),
    "unlock": (NoteForm, services.unlock_user, "reason", _("Account unlocked.")),
}


def review_user(request, pk):
    _require_reviewer(request)
    subject = get_object_or_404(User, pk=pk)
    forms = {name: spec[0](prefix=name) for name, spec in ACTIONS.items()}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ACTIONS:
            raise Http404
        form_class, service, argument, done = ACTIONS[action]
        form = forms[action] = form_class(request.POST, prefix=action)
        if form.is_valid():
            try:
                service(
                    subject,
                    by=request.user,
                    request=request,
                    **{argument: form.cleaned_data["reason"]},
                )
            except services.AccountError as error:
                form.add_error(None, str(error))
            except PermissionDenied:
                raise Http404 from None
            else:
                messages.success(request, done)
                return redirect("accounts_admin:review", pk=subject.pk)
        status = 400
    events = SecurityEvent.objects.filter(user=subject).select_related("actor")[:20]
    return TemplateResponse(
        request,
        "accounts/admin/review_user.html",
        {"subject": subject, "forms": forms, "events": events},
        status=status,
    )


def security_events(request):
    _require_reviewer(request)
    events = SecurityEvent.objects.select_related("user", "actor")
    kind = request.GET.get("kind", "")
    if kind in SecurityEvent.Kind.values:
        events = events.filter(kind=kind)
    email = request.GET.get("user", "").strip()
    if email:
        events = events.filter(user__email__icontains=email)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "accounts/admin/security_events.html",
        {
            "page": page,
            "kinds": SecurityEvent.Kind.choices,
            "kind": kind,
            "user_query": email,
        },
    )
