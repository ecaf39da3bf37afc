"""The messages' storage with the cookie's signer made once per process
(``portal.middleware.MessageMiddleware``) against Django's ``MessageMiddleware``: the
same storage classes, the same cookie (decoded: the signature's timestamp is the
moment's), the same messages read back by either, the same fallback to the session
for a cookie too large, and a cookie signed with another key refused by both; a
changed key, signing backend or storage setting is seen at the next request."""

from hashlib import sha256

import pytest
from django.contrib import messages
from django.contrib.messages.middleware import (
    MessageMiddleware as DjangoMessageMiddleware,
)
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.messages.storage.session import SessionStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core import signing
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from portal import middleware
from portal.middleware import (
    KeptSignerCookieStorage,
    KeptSignerFallbackStorage,
    MessageMiddleware,
)

MIDDLEWARES = (DjangoMessageMiddleware, MessageMiddleware)
ADDED = {
    "none": [],
    "one": [(messages.SUCCESS, "Ticket HD-000123 filed. We will reply here.")],
    "three": [
        (messages.INFO, "first"),
        (messages.WARNING, "zweite Nachricht: äöü ß <b>&amp;</b>"),
        (messages.ERROR, "третье"),
    ],
    # incompressible: more than the cookie's 2,048 bytes once signed
    "too large": [
        (
            messages.INFO,
            "".join(sha256(f"{n} {i}".encode()).hexdigest() for i in range(6)),
        )
        for n in range(9)
    ],
}


def request_with(cookie=None, session=None):
    request = RequestFactory().get("/portal/")
    request.session = session if session is not None else SessionStore()
    if cookie is not None:
        request.COOKIES[CookieStorage.cookie_name] = cookie
    return request


def answer(middleware_class, request, added=(), read=False):
    """The middleware around a view that adds ``added`` (and reads the messages when
    ``read``): the response and what the view read."""
    seen = []

    def view(request):
        for level, text in added:
            messages.add_message(request, level, text)
        if read:
            seen.extend((m.level, m.message) for m in messages.get_messages(request))
        return HttpResponse("x")

    return middleware_class(view)(request), seen


def decoded(response):
    morsel = response.cookies.get(CookieStorage.cookie_name)
    if morsel is None:
        return None
    attributes = {key: morsel[key] for key in morsel.keys()}
    if not morsel.value:
        return ("deleted", attributes)
    storage = CookieStorage(request_with())
    found = storage._decode(
        morsel.value
    )  # the sentinel last when the rest is elsewhere
    return ([(getattr(m, "level", None), str(m)) for m in found], attributes)


@pytest.mark.parametrize("name", list(ADDED))
def test_the_cookie_and_the_session_are_djangos(name):
    results = []
    for middleware_class in MIDDLEWARES:
        request = request_with()
        response, _seen = answer(middleware_class, request, ADDED[name])
        results.append(
            (
                type(request._messages).__mro__[1:],
                decoded(response),
                dict(request.session),
            )
        )
    django_result, kept_result = results
    assert kept_result[1:] == django_result[1:]
    if name == "too large":  # the cookie kept what fits, the session the rest
        assert kept_result[2] and kept_result[1][0]


def test_the_storages_are_djangos_subclasses():
    assert issubclass(KeptSignerFallbackStorage, FallbackStorage)
    assert issubclass(KeptSignerCookieStorage, CookieStorage)
    storage = KeptSignerFallbackStorage(request_with())
    assert [type(s) for s in storage.storages] == [
        KeptSignerCookieStorage,
        SessionStorage,
    ]


@pytest.mark.parametrize("writer", MIDDLEWARES)
@pytest.mark.parametrize("reader", MIDDLEWARES)
@pytest.mark.parametrize("name", list(ADDED))
def test_either_reads_what_either_wrote(writer, reader, name):
    session = SessionStore()
    response, _seen = answer(writer, request_with(session=session), ADDED[name])
    morsel = response.cookies.get(CookieStorage.cookie_name)
    cookie = morsel.value if morsel is not None else None
    later, seen = answer(reader, request_with(cookie, session), read=True)
    assert seen == [(level, text) for level, text in ADDED[name]]
    assert decoded(later) == (None if cookie is None else decoded(later))
    if cookie:  # read: the cookie is deleted, as Django deletes it
        assert decoded(later)[0] == "deleted"


@pytest.mark.parametrize("reader", MIDDLEWARES)
def test_a_cookie_signed_with_another_key_is_refused(reader):
    """Denied twin: a forged or stale cookie shows nothing, as with Django's."""
    with override_settings(
        SECRET_KEY="another key, at least fifty characters long" * 2
    ):
        response, _seen = answer(MessageMiddleware, request_with(), ADDED["one"])
    forged = response.cookies[CookieStorage.cookie_name].value
    later, seen = answer(reader, request_with(forged), read=True)
    assert seen == []


def test_the_signer_is_made_once_and_renewed_with_the_key(monkeypatch):
    made = []
    real = signing.get_cookie_signer

    def counting(*args, **kwargs):
        made.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(signing, "get_cookie_signer", counting)
    middleware._kept_messages.clear()
    for _ in range(3):
        answer(MessageMiddleware, request_with(), ADDED["one"])
    assert made == [{"salt": CookieStorage.key_salt}]
    key = "a new key for the test, long enough to pass the checks" * 2
    with override_settings(SECRET_KEY=key):
        response, _seen = answer(MessageMiddleware, request_with(), ADDED["one"])
        assert len(made) == 2
        cookie = response.cookies[CookieStorage.cookie_name].value
        _later, seen = answer(DjangoMessageMiddleware, request_with(cookie), read=True)
        assert seen == [(level, text) for level, text in ADDED["one"]]
        assert len(made) == 3  # Django's own, per request
    response, _seen = answer(MessageMiddleware, request_with(), ADDED["one"])
    assert len(made) == 4  # the old key again


def test_another_storage_setting_is_used_as_it_is():
    with override_settings(
        MESSAGE_STORAGE="django.contrib.messages.storage.session.SessionStorage"
    ):
        request = request_with()
        response, _seen = answer(MessageMiddleware, request, ADDED["one"])
        assert type(request._messages) is SessionStorage
        assert CookieStorage.cookie_name not in response.cookies
    with override_settings(
        MESSAGE_STORAGE="django.contrib.messages.storage.cookie.CookieStorage"
    ):
        request = request_with()
        answer(MessageMiddleware, request, ADDED["one"])
        assert type(request._messages) is KeptSignerCookieStorage
    request = request_with()
    answer(MessageMiddleware, request, ADDED["one"])
    assert type(request._messages) is KeptSignerFallbackStorage


# --- the kept signer is Django's own ---------------------------------------------


def test_the_cookie_signer_is_djangos_own():
    # no step of Django's signing is re-implemented: the kept signer is the very
    # class ``get_cookie_signer`` makes, with the same key, salt and fallbacks
    middleware._kept_messages.clear()
    signer = middleware._cookie_signer()
    django_signer = signing.get_cookie_signer(salt=CookieStorage.key_salt)
    assert type(signer) is type(django_signer) is signing.TimestampSigner
    assert (signer.key, signer.salt, signer.sep, signer.algorithm) == (
        django_signer.key,
        django_signer.salt,
        django_signer.sep,
        django_signer.algorithm,
    )
    assert list(signer.fallback_keys) == list(django_signer.fallback_keys)
    assert signer.signature("v") == django_signer.signature("v")
    assert django_signer.unsign(signer.sign("v")) == "v"


@override_settings(SIGNING_BACKEND="django.core.signing.Signer")
def test_another_backend_is_used_as_it_is():
    # the backend the setting names is the one kept
    middleware._kept_messages.clear()
    assert type(middleware._cookie_signer()) is signing.Signer
