"""allauth's pages speak in sentence case like the rest of the site."""

import pytest

from portal.templatetags.text_case import sentence_case


def test_sentence_case():
    assert sentence_case("Remember Me") == "Remember me"
    assert sentence_case("Sign Up") == "Sign up"
    assert sentence_case("Password (again):") == "Password (again)"
    assert sentence_case("Sign In with Google") == "Sign in with Google"
    assert sentence_case("TOTP Code") == "TOTP code"


@pytest.mark.django_db
def test_allauth_pages_use_sentence_case(client):
    login = client.get("/accounts/login/").content.decode()
    assert "Remember me" in login and "Remember Me" not in login
    assert '<label for="id_password">Password</label>' in login
    assert "<h1>Sign in</h1>" in login
    signup = client.get("/accounts/signup/").content.decode()
    assert "<h1>Sign up</h1>" in signup
    assert "Sign Up" not in signup
    assert "<title>Sign in ·" in login
