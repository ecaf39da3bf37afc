"""LDAP/Active Directory sign-in for staff and customers (django-auth-ldap).

allauth's login form stays the only password form: it calls
``django.contrib.auth.authenticate(request, email=..., password=...)`` and this backend,
placed after the local ones (``portal.settings.ldap.with_ldap_backend``), takes the
``email`` credential: the portal's service account searches the directory with
``LDAP_USER_FILTER`` (``(mail=%(user)s)`` by default) and binds as the entry found.

At each LDAP sign-in the Django user is brought in line with the directory:

- the email (``LDAP_EMAIL_ATTR``) becomes a verified, primary allauth address, so the
  mandatory email verification does not stop a directory user; a user created here has
  no usable local password;
- the staff roles that have a group (``LDAP_ROLE_GROUPS``) are granted or withdrawn
  by membership; someone with no staff role is a customer;
- a customer joins the organization whose slug or name is the value of
  ``LDAP_ORGANIZATION_ATTR`` (an existing membership is kept, none is removed).

A directory that cannot be reached is logged once per outage (not per sign-in) and
skipped for ``LDAP_RETRY_AFTER`` seconds: local accounts sign in meanwhile, directory
users get the form's usual "incorrect email or password" answer. The sign-in's
security event (``receivers.on_logged_in``) carries ``method: ldap`` and the entry's DN.
"""

import logging
import threading
import time

import ldap
from allauth.account.forms import SetPasswordForm
from allauth.account.models import EmailAddress
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_auth_ldap.backend import LDAPBackend as BaseLDAPBackend
from django_auth_ldap.backend import _LDAPUser

from . import roles, services
from .directory import is_directory_account
from .models import Organization

logger = logging.getLogger(__name__)

UNREACHABLE = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR)
SESSION_KEY = "accounts.ldap_login"


class _DirectoryState:
    """Per process: when the directory may be tried again, and whether the current
    outage has been logged."""

    def __init__(self):
        self.lock = threading.Lock()
        self.retry_at = 0.0
        self.outage_logged = False

    def available(self) -> bool:
        return time.monotonic() >= self.retry_at

    def down(self, error: Exception) -> None:
        retry_after = getattr(settings, "LDAP_RETRY_AFTER", 60)
        with self.lock:
            self.retry_at = time.monotonic() + retry_after
            first = not self.outage_logged
            self.outage_logged = True
        if first:
            logger.error(
                "LDAP directory %s unreachable (%s): only local accounts can sign in; "
                "retrying every %s s, logged once until it answers again",
                settings.AUTH_LDAP_SERVER_URI,
                _describe(error),
                retry_after,
            )

    def up(self) -> None:
        with self.lock:
            recovered = self.outage_logged
            self.outage_logged = False
            self.retry_at = 0.0
        if recovered:
            logger.warning(
                "LDAP directory %s answers again", settings.AUTH_LDAP_SERVER_URI
            )

    def reset(self) -> None:
        """Forget any outage (tests)."""
        with self.lock:
            self.retry_at = 0.0
            self.outage_logged = False


directory = _DirectoryState()


def _describe(error: Exception) -> str:
    detail = error.args[0] if error.args else None
    if isinstance(detail, dict):
        return detail.get("desc", "") or type(error).__name__
    return str(error) or type(error).__name__


class _DirectoryUser(_LDAPUser):
    """django-auth-ldap's user, whose binds mark the directory up or down: an
    unreachable server becomes a plain failed authentication, not a logged error per
    request."""

    def _bind_as(self, bind_dn, bind_password, sticky=False):
        try:
            super()._bind_as(bind_dn, bind_password, sticky=sticky)
        except UNREACHABLE as error:
            directory.down(error)
            raise self.AuthenticationFailed("LDAP directory unreachable") from error
        except ldap.INVALID_CREDENTIALS:
            directory.up()  # it answered
            raise
        directory.up()


def _first(ldap_user, attribute: str) -> str:
    if not attribute:
        return ""
    values = (ldap_user.attrs or {}).get(attribute) or []
    value = values[0] if values else ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.strip()


class LDAPBackend(BaseLDAPBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        """allauth passes ``email`` (our login method); ``username`` works too."""
        login = kwargs.get("email") or username
        if (
            not login
            or not password
            or not getattr(settings, "AUTH_LDAP_SERVER_URI", "")
        ):
            return None
        if not directory.available():
            return None
        ldap_user = _DirectoryUser(self, username=login.strip(), request=request)
        return self.authenticate_ldap_user(ldap_user, password)

    def get_or_build_user(self, username, ldap_user):
        """Match on the directory's email address (case-insensitively), not on what
        was typed: an Active Directory filter may accept a userPrincipalName too."""
        email = (_first(ldap_user, settings.LDAP_EMAIL_ATTR) or username).lower()
        model = get_user_model()
        user = model.objects.filter(email__iexact=email).first()
        if user is not None:
            return user, False
        return model(email=email), True

    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is None:
            return None
        try:
            with transaction.atomic():
                granted = _apply_directory(user, ldap_user)
        except ldap.LDAPError as error:
            logger.warning(
                "LDAP group lookup for %s failed (%s): sign-in refused",
                ldap_user.dn,
                _describe(error),
            )
            return None
        request = getattr(ldap_user, "_request", None)
        session = getattr(request, "session", None)
        if session is not None:
            session[SESSION_KEY] = {
                "user": user.pk,
                "dn": ldap_user.dn,
                "roles": sorted(granted),
            }
        return user


def _apply_directory(user, ldap_user) -> set[str]:
    """Email, roles and organization from the directory; returns the user's roles."""
    _verified_email(user)
    role_groups = getattr(settings, "LDAP_ROLE_GROUPS", {}) or {}
    if role_groups:
        member_of = {dn.lower() for dn in ldap_user.group_dns}
        wanted = {role for role, dn in role_groups.items() if dn.lower() in member_of}
        for role in set(role_groups) - wanted:
            user.groups.remove(Group.objects.get(name=role))
        for role in wanted:
            services.assign_role(user, role)
    user._role_names_cache = None
    current = set(user.groups.values_list("name", flat=True))
    if current & set(roles.STAFF_ROLES) or user.is_superuser:
        user.groups.remove(Group.objects.get(name=roles.CUSTOMERS))
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        return current & set(roles.STAFF_ROLES)
    user.groups.add(Group.objects.get(name=roles.CUSTOMERS))
    if user.is_staff:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    _join_organization(user, ldap_user)
    services.join_organizations_by_email(user, user.email)
    return {roles.CUSTOMERS}


def _verified_email(user) -> None:
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        EmailAddress.objects.filter(user=user, primary=True).update(primary=False)
        EmailAddress.objects.create(
            user=user, email=user.email, verified=True, primary=True
        )
    elif not address.verified or not address.primary:
        EmailAddress.objects.filter(user=user, primary=True).exclude(
            pk=address.pk
        ).update(primary=False)
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])


def _join_organization(user, ldap_user) -> None:
    value = _first(ldap_user, getattr(settings, "LDAP_ORGANIZATION_ATTR", ""))
    if not value:
        return
    organization = Organization.objects.filter(
        Q(slug__iexact=value) | Q(name__iexact=value)
    ).first()
    if organization is None:
        logger.info(
            "LDAP entry %s names organization %r, which does not exist here",
            ldap_user.dn,
            value,
        )
        return
    services.join_organization_from_directory(user, organization)


def login_details(request, user) -> dict:
    """The security event's data for a sign-in: ``method`` and ``dn`` when it went
    through LDAP (``receivers.on_logged_in``)."""
    session = getattr(request, "session", None)
    details = session.pop(SESSION_KEY, None) if session is not None else None
    if not details or details.get("user") != user.pk:
        return {}
    return {"method": "ldap", "dn": details["dn"], "roles": details["roles"]}


class DirectoryPasswordSetForm(SetPasswordForm):
    """allauth's "set a password" form (for accounts without one), refused with LDAP
    on: those are directory accounts, whose password the directory keeps
    (``ACCOUNT_FORMS["set_password"]``, set in the settings' LDAP block)."""

    def clean(self):
        if not is_directory_account(self.user):
            return super().clean()
        raise forms.ValidationError(
            _(
                "Your password is managed by your organization's directory: change it "
                "there."
            )
        )
