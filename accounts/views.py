"""Profile, API tokens, organization members and invitations. Thin: parse, call a
service, render."""

from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from portal import ratelimits

from . import permissions, services, tokens
from .forms import InvitationForm, ProfileForm, TokenForm
from .middleware import supported_language
from .models import Invitation, Membership, Organization


def _may_open_admin(request, default_next: str) -> bool:
    """The test each admin applies before it sends a user to its login view."""
    if default_next.startswith("/django-admin/"):
        return admin.site.has_permission(request)
    return request.user.has_perm("wagtailadmin.access_admin")


def _safe_next(request, default_next: str) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or default_next
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return default_next
    return next_url


def admin_login_redirect(request, default_next="/admin/"):
    """Stands in front of Wagtail's and Django's admin login views, which would sign a
    user in with a password alone and skip the second factor. Never authenticates,
    whatever the method; sends the browser to allauth's login, keeping a safe ``next``.

    A signed-in user without admin access is refused here with a 403 page: allauth's
    login sends signed-in users straight back to ``next``, and the admin back to its
    login, so a redirect would loop forever."""
    next_url = _safe_next(request, default_next)
    next_query = urlencode({"next": next_url})
    if request.user.is_authenticated:
        if _may_open_admin(request, default_next):
            return redirect(next_url)
        return TemplateResponse(
            request,
            "accounts/admin_denied.html",
            {"next_query": next_query},
            status=403,
        )
    return redirect(f"{reverse('account_login')}?{next_query}")


def login_redirect(request):
    """Stands where Wagtail's front-end login was (``/_util/login/``, where pages that
    require a login used to send readers): a plain Django ``LoginView`` that signed a
    user in with a password alone, without the second factor, allauth's rate limits or
    email verification. Never authenticates, whatever the method: a visitor is sent to
    allauth's login, a signed-in user on to ``next``."""
    next_url = _safe_next(request, "/")
    if request.user.is_authenticated:
        return redirect(next_url)
    return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


def password_reset_redirect(request):
    """Stands in front of Wagtail's admin password reset (``/admin/password_reset/``
    and its done/confirm/complete pages), which emailed a reset link on every request.
    Sends no email, whatever the method: the browser goes to allauth's reset, which is
    rate limited (``ACCOUNT_RATE_LIMITS["reset_password"]``). An old Wagtail reset link
    lands there too, to ask for a fresh one."""
    return redirect("account_reset_password")


def _profile_context(request, **extra):
    user = request.user
    return {
        "form": ProfileForm(instance=user),
        "token_form": TokenForm(),
        "tokens": user.portal_api_tokens.all(),
        "memberships": user.memberships.select_related("organization"),
        "can_file_tickets": permissions.can_file_tickets(user),
        **extra,
    }


@login_required
def profile(request):
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=request.user)
        if form.is_valid():
            services.update_profile(
                request.user,
                **{name: form.cleaned_data[name] for name in services.PROFILE_FIELDS},
            )
            messages.success(request, _("Your profile was saved."))
            return redirect("accounts:profile")
        request.user.refresh_from_db()
        return TemplateResponse(
            request,
            "accounts/profile.html",
            _profile_context(request, form=form),
            status=400,
        )
    return TemplateResponse(request, "accounts/profile.html", _profile_context(request))


@login_required
@require_POST
def token_create(request):
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            new = tokens.create_token(
                request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_days=form.cleaned_data["expires_days"],
                request=request,
            )
        except tokens.TokenError as error:
            form.add_error(None, str(error))
        else:
            response = TemplateResponse(
                request,
                "accounts/token_created.html",
                {"token": new.token, "secret": new.secret},
            )
            response["Cache-Control"] = "private, no-store"
            return response
    return TemplateResponse(
        request,
        "accounts/profile.html",
        _profile_context(request, token_form=form),
        status=400,
    )


@login_required
@require_POST
def token_revoke(request, pk):
    if not tokens.revoke_token(request.user, pk, request=request):
        raise Http404
    messages.success(request, _("The token was revoked."))
    return redirect(reverse("accounts:profile") + "#tokens")


def _managed_organization(request, slug) -> Organization:
    organization = get_object_or_404(Organization, slug=slug)
    if not permissions.can_manage_organization(request.user, organization):
        raise Http404
    return organization


@login_required
@ratelimits.limit("organization_invite")  # each invitation emails an address
def organization_detail(request, slug):
    organization = _managed_organization(request, slug)
    form = InvitationForm()
    status = 200
    if request.method == "POST":
        form = InvitationForm(request.POST)
        if form.is_valid():
            try:
                invitation = services.invite_member(
                    organization,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                    request=request,
                )
            except services.AccountError as error:
                form.add_error("email", str(error))
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.") % {"email": invitation.email},
                )
                return redirect("accounts:organization", slug=organization.slug)
        status = 400
    members = organization.memberships.select_related("user").order_by(
        "role",
        "user__email",  # "manager" sorts before "member"
    )
    invitations = organization.invitations.filter(accepted_at__isnull=True)
    return TemplateResponse(
        request,
        "accounts/organization_detail.html",
        {
            "organization": organization,
            "members": members,
            "invitations": invitations,
            "form": form,
        },
        status=status,
    )


@login_required
@require_POST
def invitation_cancel(request, slug, pk):
    organization = _managed_organization(request, slug)
    invitation = get_object_or_404(Invitation, pk=pk, organization=organization)
    services.cancel_invitation(invitation, by=request.user)
    messages.success(request, _("The invitation was withdrawn."))
    return redirect("accounts:organization", slug=organization.slug)


def invitation(request, token):
    """The link in the invitation email. Anyone with the link sees which organization
    invites which address; only the account with that verified address can accept."""
    invitation = services.invitation_for(token)
    if invitation is None:
        raise Http404
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        try:
            membership = services.accept_invitation(invitation, request.user)
        except services.AccountError as error:
            messages.error(request, str(error))
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(
                request,
                _("You joined %(organization)s.")
                % {"organization": membership.organization.name},
            )
            return redirect("accounts:profile")
    return TemplateResponse(
        request,
        "accounts/invitation.html",
        {
            "invitation": invitation,
            "can_accept": services.can_accept(invitation, request.user),
            "next_query": urlencode({"next": request.path}),
            "is_member": request.user.is_authenticated
            and Membership.objects.filter(
                user=request.user, organization=invitation.organization
            ).exists(),
        },
    )


def set_language(request):
    """The header's language switcher: Django's ``set_language`` (POST ``language``
    and ``next``; sets the language cookie, redirects to ``next`` in the new
    language), plus two things it cannot do here.

    * ``next`` may already carry a prefix (``/pl/kb/…``). Django's ``translate_url``
      resolves it in the active language, where Wagtail's catch-all page pattern would
      read ``pl/kb/…`` as a page path and build ``/ru/pl/kb/…``; so the prefix is
      dropped and the URL translated from English.
    * A signed-in user's profile language is what unprefixed pages and emails use
      (``UserPreferencesMiddleware``), so the choice is saved there too.
    """
    if request.method == "POST" and "next" in request.POST:
        post = request.POST.copy()
        post["next"] = _without_language_prefix(post["next"])
        request.POST = post
    with translation.override(settings.LANGUAGE_CODE):
        response = django_set_language(request)
    language = supported_language(request.POST.get("language", ""))
    user = request.user
    if request.method == "POST" and language and user.is_authenticated:
        if user.locale != language:
            user.locale = language
            user.save(update_fields=["locale"])
    return response


def _without_language_prefix(url: str) -> str:
    parts = urlsplit(url)
    language = translation.get_language_from_path(parts.path)
    if not language:
        return url
    path = parts.path[len(language) + 1 :] or "/"
    return urlunsplit(parts._replace(path=path))
