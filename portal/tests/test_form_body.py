"""A urlencoded form body read into ``request.POST`` with less work
(``portal.middleware.form_data``, ``FormBodyRequest``, given to POSTs by
``PrivateCacheMiddleware``): the same ``QueryDict`` as Django's, the same errors, and
every other body Django's own reading."""

import warnings

import pytest
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse, QueryDict
from django.test import RequestFactory, override_settings

from portal.middleware import FormBodyRequest, PrivateCacheMiddleware, form_data

BODIES = [
    b"",
    b"a=1",
    b"a=1&b=2&a=3",
    b"subject=Printer+on+fire&description=It+burns%21&category=technical&priority=medium",
    b"empty=&blank&=novalue&a=%20x%20",
    b"k=%C3%85%C3%84%C3%96&%E2%82%AC=euro",
    b"bad=%FF%FE&z=1",  # not UTF-8 once unquoted: replaced, as parse_qsl does
    "latin=\xe5\xe4\xf6".encode("latin-1"),  # the body itself not UTF-8
    b"a=1;b=2&c=3",
    b"x=1&&&y=2&x=&x=3",
    b"plus=a+b%2Bc&amp=%26&eq=a=b",
    b"csrfmiddlewaretoken=abc&subject=x&subject=y&subject=z",
]


def _django(body):
    return QueryDict(body, encoding="utf-8")


def _same(got, expected):
    assert type(got) is type(expected) is QueryDict
    assert list(got.lists()) == list(expected.lists())
    assert got.encoding == expected.encoding == "utf-8"
    assert got._mutable is expected._mutable is False
    with pytest.raises(AttributeError):
        got["new"] = "refused, as Django's"


@pytest.mark.parametrize("body", BODIES)
def test_form_data_is_djangos_query_dict(body):
    _same(form_data(body), _django(body))


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=2)
def test_too_many_fields_refused_as_django_refuses_them():
    with pytest.raises(TooManyFieldsSent) as django_error:
        _django(b"a=1&b=2&c=3")
    with pytest.raises(TooManyFieldsSent) as ours:
        form_data(b"a=1&b=2&c=3")
    assert str(ours.value) == str(django_error.value)
    # at the limit both accept
    _same(form_data(b"a=1&b=2"), _django(b"a=1&b=2"))


def _environ(body=b"", content_type="application/x-www-form-urlencoded", **extra):
    return (
        RequestFactory()
        .generic(
            "POST", "/portal/tickets/new/", body, content_type=content_type, **extra
        )
        .environ
    )


def _both(environ_of):
    """Django's request and ours for two copies of the same environ."""
    return WSGIRequest(environ_of()), FormBodyRequest(environ_of())


@pytest.mark.parametrize("body", BODIES)
def test_a_requests_post_and_files_are_djangos(body):
    django_request, ours = _both(lambda: _environ(body))
    _same(ours.POST, django_request.POST)
    assert list(ours.FILES.lists()) == list(django_request.FILES.lists()) == []
    assert ours.body == django_request.body == body


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary=BoUnDaRy",
        "text/plain",
        "application/json",
        "application/x-www-form-urlencoded; charset=UTF-8",
    ],
)
def test_other_bodies_are_read_by_django(content_type):
    body = (
        b'--BoUnDaRy\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'
        b"--BoUnDaRy--\r\n"
        if content_type.startswith("multipart")
        else b"a=1&b=2"
    )
    django_request, ours = _both(lambda: _environ(body, content_type))
    assert list(ours.POST.lists()) == list(django_request.POST.lists())
    assert ours.POST.encoding == django_request.POST.encoding


def test_a_non_utf8_charset_is_djangos_bad_request():
    content_type = "application/x-www-form-urlencoded; charset=latin-1"
    django_request, ours = _both(lambda: _environ(b"a=1", content_type))
    with pytest.raises(BadRequest) as django_error:
        django_request.POST  # noqa: B018
    with pytest.raises(BadRequest) as ours_error:
        ours.POST  # noqa: B018
    assert str(ours_error.value) == str(django_error.value)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10)
def test_a_body_too_big_is_refused_as_django_refuses_it():
    django_request, ours = _both(lambda: _environ(b"subject=" + b"x" * 40))
    with pytest.raises(RequestDataTooBig):
        django_request.POST  # noqa: B018
    with pytest.raises(RequestDataTooBig):
        ours.POST  # noqa: B018


def test_a_stream_read_first_gives_an_empty_post_as_djangos():
    django_request, ours = _both(lambda: _environ(b"a=1&b=2"))
    assert django_request.read(3) == ours.read(3) == b"a=1"
    assert list(ours.POST.lists()) == list(django_request.POST.lists()) == []


def test_the_body_read_first_is_used_as_djangos():
    django_request, ours = _both(lambda: _environ(b"a=1&b=2"))
    assert django_request.body == ours.body
    _same(ours.POST, django_request.POST)


def test_a_get_request_is_djangos():
    environ = RequestFactory().get("/x/", {"a": "1"}).environ
    ours = FormBodyRequest(environ)
    assert list(ours.POST.lists()) == []
    assert list(ours.GET.lists()) == [("a", ["1"])]


def _class_seen(request):
    seen = []

    def view(request):
        seen.append(type(request))
        seen.append(list(request.POST.lists()))
        return HttpResponse("ok")

    PrivateCacheMiddleware(view)(request)
    return seen


def test_the_middleware_gives_posts_the_form_body_request():
    request = WSGIRequest(_environ(b"a=1&a=2"))
    assert _class_seen(request) == [FormBodyRequest, [("a", ["1", "2"])]]


def test_the_middleware_leaves_other_requests_alone():
    # the denied twins: a GET, and a request that is not Django's WSGIRequest
    get = WSGIRequest(RequestFactory().get("/x/").environ)
    assert _class_seen(get)[0] is WSGIRequest
    plain = HttpRequest()
    plain.method = "POST"
    assert _class_seen(plain)[0] is HttpRequest


def test_the_portal_filing_reads_the_form_through_it(client, django_user_model):
    # a POST through the whole stack is read by ``form_data`` and answered as before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        response = client.post(
            "/accounts/login/",
            "login=nobody%40example.com&password=wrong",
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 200
    assert type(response.wsgi_request) is FormBodyRequest
    assert response.wsgi_request.POST["login"] == "nobody@example.com"
