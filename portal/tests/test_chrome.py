"""``{% chrome %}`` (``portal/templatetags/chrome.py``): the header and footer kept per
kind of request render what ``{% include %}`` renders, for every kind of user,
language, path and escaping; the CSRF inputs are the request's own; nothing of one
user is kept; a change of language, a sign-in or a role is seen at the next render.
And ``i18n_links.path_in``'s kept answers are the plain ones."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.middleware.csrf import _unmask_cipher_token
from django.template import Context, Engine, RequestContext, engines
from django.test import RequestFactory, override_settings
from django.urls import path
from django.utils import translation
from django.utils.html import escape

from accounts import roles
from portal.templatetags import i18n_links

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')
TEMPLATES = ["includes/header.html", "includes/footer.html"]
PATHS = ["/portal/tickets/", "/kb/search/?q=%3Cb%3E%22%26'&page=2", "/pl/kb/", "/"]


def _request(user, path="/portal/tickets/"):
    request = RequestFactory().get(path)
    request.user = user
    return request


def _render(source: str, request, autoescape=True) -> str:
    template = engines["django"].from_string(source)
    if autoescape:
        return template.render({}, request)
    context = RequestContext(request, {}, autoescape=False)
    return template.template.render(context)


def _both(name, request, autoescape=True) -> tuple[str, str]:
    plain = _render(f'{{% include "{name}" %}}', request, autoescape)
    kept = _render(f'{{% load chrome %}}{{% chrome "{name}" %}}', request, autoescape)
    return CSRF.sub("csrf", plain), CSRF.sub("csrf", kept)


@pytest.fixture
def users(make_user):
    def with_role(email, role=None, **extra):
        return make_user(email, groups=[role] if role else [], **extra)

    return {
        "anonymous": AnonymousUser(),
        "customer": with_role("cust@example.com", roles.CUSTOMERS),
        "agent": with_role("agent@example.com", roles.AGENTS, is_staff=True),
        "editor": with_role("editor@example.com", roles.EDITORS, is_staff=True),
        "viewer": with_role("viewer@example.com", roles.VIEWERS, is_staff=True),
        "admin": with_role("root@example.com", is_superuser=True, is_staff=True),
        "no role": with_role("bare@example.com"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "pl", "ru"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_kept_chrome_renders_as_the_include(users, language, autoescape):
    with translation.override(language):
        for name in TEMPLATES:
            for kind, user in users.items():
                for path in PATHS:
                    for turn in (1, 2):  # made, then kept
                        plain, kept = _both(name, _request(user, path), autoescape)
                        assert kept == plain, (name, kind, path, turn)


@pytest.mark.django_db
def test_the_header_differs_by_kind_and_the_kept_text_holds_no_user(users):
    seen = {}
    for kind, user in users.items():
        seen[kind] = _both("includes/header.html", _request(user))[1]
    assert "Sign in" in seen["anonymous"] and "Sign out" not in seen["anonymous"]
    assert "Sign out" in seen["customer"] and "/admin/" not in seen["customer"]
    for staff in ("agent", "editor", "viewer", "admin"):
        assert "/admin/" in seen[staff]
    assert "/admin/" not in seen["no role"]
    page = engines["django"].from_string(
        '{% load chrome %}{% chrome "includes/header.html" %}'
    )
    for user in users.values():
        page.render({}, _request(user))
    node = page.template.nodelist[-1]
    assert len(node.kept) == len(users)  # one per kind: every user here is one
    kept = repr(node.kept)
    for user in users.values():
        if user.is_authenticated:
            assert user.email not in kept
            assert user.email.split("@")[0] not in kept


@pytest.mark.django_db
def test_each_csrf_input_and_the_path_are_the_requests_own(users):
    source = '{% load chrome %}{% chrome "includes/header.html" %}|{{ csrf_token }}'
    for _turn in (1, 2):
        request = _request(users["customer"], "/portal/tickets/?q=%22x%22&a='b'")
        html = _render(source, request)
        tokens = CSRF.findall(html)
        assert len(tokens) == 2  # the sign-out form and the language form
        secret = request.META["CSRF_COOKIE"]
        assert {_unmask_cipher_token(token) for token in tokens} == {secret}
        assert tokens[0] == html.rsplit("|", 1)[1]
        path = escape(request.get_full_path())
        assert "&amp;" in path and "&#x27;" in path
        assert f'name="next" value="{path}"' in html


@pytest.mark.django_db
def test_language_sign_in_and_role_changes_are_seen_at_the_next_render(
    users, make_user
):
    anonymous = _both("includes/header.html", _request(AnonymousUser()))
    with translation.override("pl"):
        polish = _both("includes/header.html", _request(AnonymousUser()))
    assert polish[0] == polish[1] != anonymous[1]
    signed_in = _both("includes/header.html", _request(users["customer"]))
    assert signed_in[0] == signed_in[1] != anonymous[1]
    customer = users["customer"]
    customer.groups.add(Group.objects.get(name=roles.AGENTS))
    promoted = type(customer).objects.get(pk=customer.pk)  # the next request's user
    after = _both("includes/header.html", _request(promoted))
    assert after[0] == after[1] != signed_in[1]
    assert "/admin/" in after[1]


def _engine(**templates) -> Engine:
    return Engine(
        loaders=[("django.template.loaders.locmem.Loader", templates)],
        libraries={"chrome": "portal.templatetags.chrome"},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "source",
    [
        "<a href='?next={{ request.get_full_path|urlencode }}'>{{ SITE_NAME }}</a>",
        "{{ csrf_token }}",
        "{% csrf_token %}{{ request.get_full_path|upper }}",
    ],
)
def test_a_mark_anywhere_but_a_hole_renders_plainly(users, source):
    engine = _engine(**{"h.html": source})
    kept = engine.from_string('{% load chrome %}{% chrome "h.html" %}')
    plain = engine.from_string('{% include "h.html" %}')
    for user in (users["anonymous"], users["customer"]):
        request = _request(user, "/x/?q=<b>")
        context = {"request": request, "user": user, "SITE_NAME": "Site"}
        context["csrf_token"] = "token123"
        assert kept.render(Context(context)) == plain.render(Context(context))
    assert kept.nodelist[-1].kept == {}


@pytest.mark.django_db
def test_without_a_request_or_a_user_it_renders_plainly(users):
    engine = _engine(**{"h.html": "{{ user.is_authenticated }} {{ SITE_NAME }}"})
    kept = engine.from_string('{% load chrome %}{% chrome "h.html" %}')
    assert kept.render(Context({"SITE_NAME": "S", "user": users["customer"]})) == (
        "True S"
    )
    assert kept.render(Context({"SITE_NAME": "S", "request": object()})) == " S"
    assert kept.nodelist[-1].kept == {}


def test_the_tag_takes_one_quoted_name():
    from django.template import TemplateSyntaxError

    for source in ("{% chrome %}", "{% chrome name %}", '{% chrome "a" "b" %}'):
        with pytest.raises(TemplateSyntaxError):
            _engine().from_string("{% load chrome %}" + source)


@pytest.mark.parametrize(
    "path",
    [
        "/kb/search/",
        "/pl/kb/search/",
        "/ru/kb/search/",
        "/portal/tickets/",
        "/accounts/login/",
        "/pl/accounts/login/",
        "/no-such-page/",
        "/xx/kb/",
        "/kb/",
        "/",
    ],
)
@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_kept_paths_are_the_plain_ones(path, language):
    for _turn in (1, 2):
        assert i18n_links.path_in(path, language) == i18n_links._path_in(path, language)


# A URLconf without language prefixes, for the test below.
urlpatterns = [path("kb/search/", lambda request: None, name="unprefixed-search")]


def test_kept_paths_follow_a_new_urlconf():
    assert i18n_links.path_in("/kb/search/", "pl") == "/pl/kb/search/"
    with override_settings(ROOT_URLCONF=__name__):
        assert i18n_links.path_in("/kb/search/", "pl") is None
    assert i18n_links.path_in("/kb/search/", "pl") == "/pl/kb/search/"


def test_the_kept_map_is_bounded(monkeypatch):
    monkeypatch.setattr(i18n_links, "PATHS_MAX", 3)
    for n in range(10):
        i18n_links.path_in(f"/kb/{n}/", "pl")
        assert len(i18n_links._PATHS) <= 3
