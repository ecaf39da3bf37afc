"""A form body is read by Django's own request (``WSGIRequest``): no middleware
changes the request's class or parses the body itself."""

import warnings

from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.test import RequestFactory

from portal.middleware import PrivateCacheMiddleware


def _class_seen(request):
    seen = []

    def view(request):
        seen.append(type(request))
        seen.append(list(request.POST.lists()))
        return HttpResponse("ok")

    PrivateCacheMiddleware(view)(request)
    return seen


def test_a_post_keeps_djangos_request_class():
    environ = (
        RequestFactory()
        .generic(
            "POST",
            "/portal/tickets/new/",
            b"a=1&a=2",
            content_type="application/x-www-form-urlencoded",
        )
        .environ
    )
    assert _class_seen(WSGIRequest(environ)) == [WSGIRequest, [("a", ["1", "2"])]]


def test_a_urlencoded_post_through_the_stack_is_read_by_django(client, db):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        response = client.post(
            "/accounts/login/",
            "login=nobody%40example.com&password=wrong",
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 200
    assert type(response.wsgi_request) is WSGIRequest
    assert response.wsgi_request.POST["login"] == "nobody@example.com"
