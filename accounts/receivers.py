"""Signal receivers, for the events that only a framework can see (sign-in, sign-out,
failed sign-in, password and second-factor changes, email confirmation). Connected in
``AccountsConfig.ready``."""

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import signals as auth_signals
from django.utils import translation

from . import events, services
from .middleware import supported_language

Kind = events.Kind


def on_logged_in(sender, request, user, **kwargs):
    from . import sso

    events.record(
        Kind.LOGIN,
        user=user,
        request=request,
        **{**_ldap_details(request, user), **sso.login_event_data(request, user)},
    )
    _adopt_language(request, user)


def _ldap_details(request, user) -> dict:
    """``method: ldap`` and the directory entry when the LDAP backend signed them in."""
    if not getattr(settings, "AUTH_LDAP_SERVER_URI", ""):
        return {}
    from .ldap import login_details

    return login_details(request, user)


def _adopt_language(request, user):
    """A user without a profile language keeps the one they were reading in when
    they signed in (the page's prefix or the switcher's cookie): their later pages and
    emails use it. An explicit profile choice is never overwritten."""
    if request is None or getattr(user, "locale", None) != "":
        return
    language = supported_language(
        translation.get_language_from_path(request.path_info) or ""
    ) or supported_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""))
    if language and language != settings.LANGUAGE_CODE:
        user.locale = language
        user.save(update_fields=["locale"])


def on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        events.record(Kind.LOGOUT, user=user, request=request)


def on_login_failed(sender, credentials, request=None, **kwargs):
    login = (credentials.get("email") or credentials.get("username") or "")[:254]
    user = (
        get_user_model().objects.filter(email__iexact=login).first() if login else None
    )
    events.record(Kind.LOGIN_FAILED, user=user, request=request, login=login)


def on_mfa_failed(sender, request, user, **kwargs):
    events.record(Kind.LOGIN_FAILED, user=user, request=request, stage="mfa")


def on_password_changed(sender, request, user, **kwargs):
    events.record(Kind.PASSWORD_CHANGED, user=user, request=request)


def on_password_reset(sender, request, user, **kwargs):
    events.record(Kind.PASSWORD_RESET, user=user, request=request)


def on_authenticator_added(sender, request, user, authenticator, **kwargs):
    events.record(Kind.MFA_ENABLED, user=user, request=request, type=authenticator.type)


def on_authenticator_removed(sender, request, user, authenticator, **kwargs):
    events.record(
        Kind.MFA_DISABLED, user=user, request=request, type=authenticator.type
    )


def on_email_confirmed(sender, request, email_address, **kwargs):
    services.join_organizations_by_email(email_address.user, email_address.email)


def connect():
    uid = "accounts."
    auth_signals.user_logged_in.connect(on_logged_in, dispatch_uid=uid + "in")
    auth_signals.user_logged_out.connect(on_logged_out, dispatch_uid=uid + "out")
    auth_signals.user_login_failed.connect(on_login_failed, dispatch_uid=uid + "fail")
    mfa_signals.authentication_failed.connect(on_mfa_failed, dispatch_uid=uid + "mfa")
    account_signals.password_changed.connect(
        on_password_changed, dispatch_uid=uid + "pwc"
    )
    account_signals.password_set.connect(on_password_changed, dispatch_uid=uid + "pws")
    account_signals.password_reset.connect(on_password_reset, dispatch_uid=uid + "pwr")
    mfa_signals.authenticator_added.connect(
        on_authenticator_added, dispatch_uid=uid + "mfa+"
    )
    mfa_signals.authenticator_removed.connect(
        on_authenticator_removed, dispatch_uid=uid + "mfa-"
    )
    account_signals.email_confirmed.connect(
        on_email_confirmed, dispatch_uid=uid + "email"
    )
