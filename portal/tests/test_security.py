"""Security headers and failure modes of the public site."""

from unittest import mock

import pytest
from django.db import OperationalError


@pytest.mark.django_db
def test_public_pages_carry_a_content_security_policy(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_admin_is_not_under_the_site_csp(client):
    response = client.get("/admin/login/")
    assert "Content-Security-Policy" not in response


@pytest.mark.django_db
def test_database_outage_gives_a_friendly_503(client):
    with mock.patch(
        "wagtail.models.Page.serve",
        side_effect=OperationalError("could not connect to server"),
    ):
        response = client.get("/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "temporarily unavailable" in body
    assert "OperationalError" not in body and "Traceback" not in body
    assert response["Retry-After"] == "30"
