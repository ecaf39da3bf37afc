"""``accounts.middleware.LocaleMiddleware`` (the path's language read once a request)
against Django's ``LocaleMiddleware``: the same active language during the view, the
same ``request.LANGUAGE_CODE``, the same answer (status, ``Location``, ``Vary``,
``Content-Language``) for prefixed and unprefixed paths, language cookies, browser
languages, 200/302/404 answers and a request-level URLconf; and the kept path language
used by ``UserPreferencesMiddleware`` only for the path it was read for."""

import itertools

import pytest
from django.http import HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.test import RequestFactory
from django.urls import path as url_path
from django.utils import translation

from accounts.middleware import (
    LocaleMiddleware,
    language_from_path,
    language_from_request,
)

# a request-level URLconf without language prefixes (this module)
urlpatterns = [url_path("kb/", lambda request: HttpResponse("kb"))]

PATHS = [
    "/portal/tickets/new/",
    "/portal/tickets/new",
    "/kb/",
    "/kb",
    "/pl/kb/",
    "/ru/kb/",
    "/pl/",
    "/ru/nothing-here/",
    "/xx/kb/",
    "/en/kb/",
    "/",
    "/accounts/login/",
    "/graphql/",
    "/no-such-page",
]
COOKIES = [None, "pl", "ru", "en", "xx", ""]
ACCEPT = [None, "ru,en;q=0.8", "pl", "de, *", "en-US,en;q=0.9"]
ANSWERS = {
    "200": lambda: HttpResponse("ok"),
    "302": lambda: HttpResponseRedirect("/elsewhere/"),
    "404": lambda: HttpResponseNotFound("no"),
    "vary": lambda: _with_vary(),
}


def _with_vary():
    response = HttpResponse("ok")
    response["Vary"] = "Cookie"
    response["Content-Language"] = "de"
    return response


def _run(middleware_class, path, cookie, accept, answer, urlconf=None):
    factory = RequestFactory()
    headers = {}
    if accept is not None:
        headers["HTTP_ACCEPT_LANGUAGE"] = accept
    request = factory.get(path, {"q": "1"}, **headers)
    if cookie is not None:
        request.COOKIES["django_language"] = cookie
    if urlconf is not None:
        request.urlconf = urlconf
    seen = {}

    def view(request):
        seen["active"] = translation.get_language()
        seen["code"] = request.LANGUAGE_CODE
        return ANSWERS[answer]()

    with translation.override("en"):
        response = middleware_class(view)(request)
        after = translation.get_language()
    return (
        seen,
        after,
        response.status_code,
        response.get("Location"),
        response.get("Vary"),
        response.get("Content-Language"),
    )


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_the_same_choice_and_headers_as_djangos(answer):
    for path, cookie, accept in itertools.product(PATHS, COOKIES, ACCEPT):
        ours = _run(LocaleMiddleware, path, cookie, accept, answer)
        django = _run(DjangoLocaleMiddleware, path, cookie, accept, answer)
        assert ours == django, (path, cookie, accept, answer)


def test_a_request_urlconf_without_language_prefixes_as_djangos():
    for path, cookie, accept in itertools.product(PATHS, COOKIES, ACCEPT):
        for answer in ANSWERS:
            arguments = (path, cookie, accept, answer, __name__)
            assert _run(LocaleMiddleware, *arguments) == _run(
                DjangoLocaleMiddleware, *arguments
            ), (path, cookie, accept, answer)


def test_the_kept_language_is_for_its_own_path_only():
    request = RequestFactory().get("/pl/kb/")
    assert language_from_path(request) == "pl"  # not kept: worked out
    LocaleMiddleware(lambda request: HttpResponse())(request)
    assert request._language_from_path == ("/pl/kb/", "pl")
    request.path_info = "/ru/kb/"  # changed after: worked out again
    assert language_from_path(request) == "ru"
    request._language_from_path = ("/ru/kb/", "kept")
    assert language_from_path(request) == "kept"


def test_the_kept_browser_choice_is_djangos():
    # for every cookie and header: what LocaleMiddleware keeps is Django's answer,
    # and without it (a prefixed path, no middleware) Django's is worked out
    for path, cookie, accept in itertools.product(PATHS, COOKIES, ACCEPT):
        headers = {} if accept is None else {"HTTP_ACCEPT_LANGUAGE": accept}
        request = RequestFactory().get(path, **headers)
        if cookie is not None:
            request.COOKIES["django_language"] = cookie
        expected = translation.get_language_from_request(request)
        assert language_from_request(request) == expected
        with translation.override("en"):
            LocaleMiddleware(lambda request: HttpResponse())(request)
        kept = request.__dict__.get("_language_from_request")
        assert kept in (None, expected), (path, cookie, accept)
        assert language_from_request(request) == expected, (path, cookie, accept)


def test_the_kept_browser_choice_is_read_and_a_request_without_it_asks_django():
    request = RequestFactory().get("/portal/", HTTP_ACCEPT_LANGUAGE="pl")
    with translation.override("en"):
        LocaleMiddleware(lambda request: HttpResponse())(request)
    assert request._language_from_request == "pl"
    request._language_from_request = "kept"
    assert language_from_request(request) == "kept"
    # the twin: nothing kept, Django's answer
    fresh = RequestFactory().get("/portal/", HTTP_ACCEPT_LANGUAGE="ru")
    assert language_from_request(fresh) == "ru"
