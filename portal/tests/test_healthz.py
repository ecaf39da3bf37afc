from unittest import mock

import pytest


@pytest.mark.django_db
def test_healthz_reports_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "storage": True,
        "jobs": True,
    }


@pytest.mark.django_db
def test_healthz_leaves_no_probe_file(client, settings):
    client.get("/healthz")
    probes = (
        list((settings.PRIVATE_MEDIA_ROOT / "healthz").glob("*"))
        if (settings.PRIVATE_MEDIA_ROOT / "healthz").exists()
        else []
    )
    assert probes == []


@pytest.mark.django_db
def test_healthz_503_when_storage_fails(client):
    with mock.patch(
        "portal.views._check_storage", return_value=(False, "PermissionError")
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == {
        "ok": False,
        "detail": "PermissionError",
    }
    assert response.json()["status"] == "unavailable"


@pytest.mark.django_db
def test_healthz_503_when_database_fails(client):
    from django.db import OperationalError

    with mock.patch("portal.views.connection") as fake_connection:
        fake_connection.cursor.side_effect = OperationalError("connection refused")
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "ok": False,
        "detail": "OperationalError",
    }


def test_healthz_rejects_post(client, db):
    assert client.post("/healthz").status_code == 405
