"""The Content-Security-Policy header built once per process
(``portal.middleware.CSPMiddleware``) against django-csp's own middleware: the same
headers for the settings' policy, a view's own policy (``csp_update``,
``csp_replace``, the ``csp`` decorator), a nonce, an exempt view, an excluded
prefix, a report-only policy and a debug 404; a changed setting is seen at the next
answer."""

import pytest
from csp.decorators import csp, csp_exempt, csp_replace, csp_update
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from portal import middleware
from portal.middleware import CSPMiddleware

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def plain(request):
    return HttpResponse("x")


def with_nonce(request):
    return HttpResponse(str(request.csp_nonce))


def not_found(request):
    return HttpResponse("x", status=404)


VIEWS = {
    "plain": plain,
    "nonce": with_nonce,
    "update": csp_update({"img-src": ["https://example.com"]})(plain),
    "replace": csp_replace({"script-src": ["'self'", "https://cdn.example"]})(plain),
    "own": csp({"default-src": ["'none'"]})(plain),
    "exempt": csp_exempt()(plain),
    "not_found": not_found,
}

REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-report/"}}


def headers(middleware_class, view, path, nonce=None):
    request = RequestFactory().get(path)
    if nonce is not None:
        request._csp_nonce = nonce  # what _make_nonce keeps
    response = middleware_class(view)(request)
    return {name: response.get(name) for name in HEADERS}, request


@pytest.mark.parametrize("name", list(VIEWS))
@pytest.mark.parametrize("path", ["/portal/tickets/new/", "/admin/", "/graphql/"])
@pytest.mark.parametrize("report_only", [False, True])
@pytest.mark.parametrize("debug", [False, True])
def test_the_headers_are_django_csps(settings, name, path, report_only, debug):
    settings.DEBUG = debug
    if report_only:
        settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = REPORT_ONLY
    view = VIEWS[name]
    for _ in range(2):  # built, then kept
        ours, request = headers(CSPMiddleware, view, path)
        nonce = getattr(request, "_csp_nonce", None)  # a new one per answer
        theirs, _request = headers(LibraryCSPMiddleware, view, path, nonce=nonce)
        assert ours == theirs
        if name != "nonce" and not (debug and name == "not_found"):
            # the nonce may not be asked for once the header is written
            with pytest.raises(CSPNonceError):
                str(request.csp_nonce)


def test_a_changed_setting_is_seen_at_the_next_answer(settings):
    first, _ = headers(CSPMiddleware, plain, "/portal/")
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {"default-src": ["'none'"], "img-src": ["https://img.example"]}
    }
    second, _ = headers(CSPMiddleware, plain, "/portal/")
    assert second != first
    assert second == headers(LibraryCSPMiddleware, plain, "/portal/")[0]
    with override_settings(CONTENT_SECURITY_POLICY=None):
        assert headers(CSPMiddleware, plain, "/portal/")[0] == {
            name: None for name in HEADERS
        }


def test_the_site_policy_is_built_once(monkeypatch):
    middleware._site_policies.clear()
    built = []
    original = middleware.build_policy

    def counting(**kwargs):
        built.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(middleware, "build_policy", counting)
    for _ in range(3):
        headers(CSPMiddleware, plain, "/portal/")
    assert len(built) == 2  # the policy and the report-only one, once each
    headers(CSPMiddleware, VIEWS["update"], "/portal/")
    assert len(built) == 3  # a view's own policy: built for its answer (its
    # report-only policy is the settings', kept)
    middleware._site_policies.clear()
