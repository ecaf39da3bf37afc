"""Sign-in is allauth's alone: its second factor, rate limits and email verification
apply to every way in. These tests walk the whole URL resolver (every include) and fail
when any route serves a view that signs users in other than allauth's, judged twice:

* by what the code is: a ``django.contrib.auth`` ``LoginView`` (Wagtail's admin and
  front-end logins are ones), or a view whose code calls ``django.contrib.auth.login``
  or builds a ``LoginView`` (Django admin's ``AdminSite.login``);
* by what it does: a password POSTed to every route reachable on the site signs
  nobody in, except allauth's login for an account that needs nothing more.

A flagged view may stay in the resolver only behind an earlier route that takes its
path (``admin_login_redirect`` in front of both admin logins).
"""

import inspect
import types

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.test import Client

from .routes import all_routes

ALLAUTH_MODULES = ("allauth.",)


def _unwrapped(callback):
    """The callback and everything it wraps (decorators, bound methods, view classes)."""
    seen, todo = [], [callback]
    while todo:
        obj = todo.pop()
        if obj is None or any(obj is known for known in seen):
            continue
        seen.append(obj)
        todo.append(getattr(obj, "__wrapped__", None))
        todo.append(getattr(obj, "__func__", None))
        todo.append(getattr(obj, "view_class", None))
    return seen


def _functions(obj):
    if isinstance(obj, type):
        for klass in obj.__mro__:
            for member in vars(klass).values():
                member = getattr(member, "__func__", member)
                if isinstance(member, types.FunctionType):
                    yield member
    elif isinstance(obj, types.FunctionType):
        yield obj


def _codes(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _signs_in(function) -> bool:
    """Whether ``function``'s code calls ``django.contrib.auth.login`` or makes a
    ``LoginView``, through a global, a module attribute or an import in its body."""
    namespace = function.__globals__
    for code in _codes(function.__code__):
        names = set(code.co_names)
        for name in names:
            value = namespace.get(name)
            if value is auth.login:
                return True
            if inspect.isclass(value) and issubclass(value, auth_views.LoginView):
                return True
            if value is auth and "login" in names:
                return True
        if "LoginView" in names or (
            "django.contrib.auth" in names and "login" in names
        ):
            return True
    return False


def is_allauth(callback) -> bool:
    return any(
        getattr(obj, "__module__", "").startswith(ALLAUTH_MODULES)
        for obj in _unwrapped(callback)
    )


def signs_users_in(callback) -> bool:
    """Static judgement: a view that can sign a user in (allauth's excepted)."""
    if is_allauth(callback):
        return False
    for obj in _unwrapped(callback):
        if inspect.isclass(obj) and issubclass(obj, auth_views.LoginView):
            return True
        if any(_signs_in(function) for function in _functions(obj)):
            return True
    return False


def describe(route):
    target = _unwrapped(route.callback)[-1]
    return f"{route.route} ({target.__module__}.{target.__qualname__})"


def test_no_route_serves_a_login_view_other_than_allauths():
    from django.contrib import admin
    from wagtail.admin.views import account
    from wagtail.urls import urlpatterns as wagtail_urlpatterns

    routes = all_routes()
    # the walk reaches every include, and the detector knows the login views of
    # Django and Wagtail (and not every view of their modules)
    assert {
        "accounts/login/",
        "admin/helpdesk/tickets/",
        "django-admin/login/",
        "graphql/",
        "portal/tickets/",
        "_util/authenticate_with_password/<int:page_view_restriction_id>/<int:page_id>/",
    } <= {route.route for route in routes}
    (frontend_login,) = [
        p for p in wagtail_urlpatterns if p.name == "wagtailcore_login"
    ]
    assert signs_users_in(frontend_login.callback)
    assert signs_users_in(account.LoginView.as_view())
    assert signs_users_in(admin.site.login)
    assert not signs_users_in(account.LogoutView.as_view())
    assert not signs_users_in(account.AccountView.as_view())
    assert not signs_users_in(admin.site.index)

    flagged = [route for route in routes if signs_users_in(route.callback)]

    served = [describe(route) for route in flagged if route.served]
    assert served == []
    # The shadowed ones are the two admin logins and Wagtail's reset confirmation
    # (Django's PasswordResetConfirmView can sign in after a reset), and what stands in
    # front of them signs nobody in.
    assert sorted(route.route for route in flagged) == [
        "admin/login/",
        "admin/password_reset/confirm/<uidb64>/<token>/",
        "django-admin/login/",
    ]
    for route in flagged:
        assert not signs_users_in(route.served_by), describe(route)


# --- behaviour: a password POSTed anywhere ---------------------------------------------


@pytest.fixture
def people(make_user):
    """A verified account with nothing more to check, one with TOTP, one that never
    verified its address (as a fresh sign-up)."""
    plain = make_user("plain@example.com")
    with_totp = make_user("totp@example.com", is_staff=True, is_superuser=True)
    TOTP.activate(with_totp, "JBSWY3DPEHPK3PXP")
    unverified = make_user("new@example.com", verified=False)
    EmailAddress.objects.create(
        user=unverified, email=unverified.email, verified=False, primary=True
    )
    return {"plain": plain, "totp": with_totp, "unverified": unverified}


def _post_credentials(path, email, password):
    cache.clear()  # allauth's rate limits must not hide a door
    client = Client(raise_request_exception=False)
    client.post(
        path,
        {
            "login": email,
            "username": email,
            "email": email,
            "password": password,
            "remember": "on",
        },
    )
    return client.session.get(auth.SESSION_KEY)


@pytest.mark.django_db
def test_a_password_posted_to_any_route_signs_in_only_through_allauth(people, password):
    routes = all_routes()
    paths = sorted({route.path for route in routes if route.served})
    assert "/accounts/login/" in paths

    signed_in = [
        p for p in paths if _post_credentials(p, "plain@example.com", password)
    ]

    assert signed_in == ["/accounts/login/"]  # the twin: allauth does sign in


@pytest.mark.django_db
def test_no_login_route_skips_the_second_factor_or_email_verification(people, password):
    """Every route that could sign someone in (a password signs the plain account in
    there, the code looks like a login, or the path says so), tried with an account
    that has TOTP and one whose address is not verified."""
    routes = all_routes()
    paths = sorted(
        {route.path for route in routes if signs_users_in(route.callback)}
        | {route.path for route in routes if "login" in route.path}
        | {"/accounts/login/", "/_util/login/"}
    )
    assert _post_credentials("/accounts/login/", "plain@example.com", password)

    signed_in = {
        kind: [p for p in paths if _post_credentials(p, people[kind].email, password)]
        for kind in ("totp", "unverified")
    }

    assert signed_in == {"totp": [], "unverified": []}
