"""Issue #19: allauth's pages speak like the rest of the site: sentence case ("Sign up",
"Remember me", not "Sign Up", "Remember Me") and labels without trailing colons."""

import re

import pytest
from allauth.account.models import EmailAddress

from tickets.tests.factories import make_customer

pytestmark = pytest.mark.django_db

TAGS = re.compile(r"<[^>]+>")


def _texts(html, tag):
    return [
        " ".join(TAGS.sub(" ", t).split())
        for t in re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, re.S)
    ]


def _title_case(text):
    """Two or more words and every one of them capitalised ("Remember Me")."""
    words = [w for w in re.findall(r"[^\W\d_]+", text) if len(w) >= 2]
    return len(words) > 1 and all(w[0].isupper() for w in words)


def _check(html):
    labels = [t for t in _texts(html, "label") if t]
    headings = _texts(html, "h1") + _texts(html, "h2")
    buttons = [t for t in _texts(html, "button") if t]
    assert labels and headings
    assert [t for t in labels if t.endswith(":")] == []
    assert [t for t in labels + headings + buttons if _title_case(t)] == []
    return labels, headings, buttons


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
)
def test_sign_in_pages_use_sentence_case_and_no_colons(client, path):
    _check(client.get(path).content.decode())


def test_sign_in_page_words(client):
    labels, headings, buttons = _check(client.get("/accounts/login/").content.decode())
    assert "Remember me" in labels
    assert "Sign in" in headings


def test_passkey_pages_use_sentence_case(client):
    user = make_customer(email="pat@example.org")
    EmailAddress.objects.create(
        user=user, email=user.email, verified=True, primary=True
    )
    client.force_login(user)
    for path in ["/accounts/2fa/", "/accounts/2fa/webauthn/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        headings = _texts(html, "h1") + _texts(html, "h2")
        assert headings, path
        assert [t for t in headings if _title_case(t)] == [], path


def test_the_title_case_detector_catches_title_case():
    assert _title_case("Remember Me") and _title_case("Sign Up")
    assert not _title_case("Remember me") and not _title_case("Sign up")
