"""Faults: the database or the attachment store goes away.

The database case runs a real gunicorn whose ``DATABASE_URL`` points at a closed
loopback port, so every query fails exactly as in an outage. Webhook receivers that are
down and workers killed mid-job are covered by the jobs suites:
``webhooks/tests/test_webhook_delivery.py`` (receiver refuses then accepts:
every event once, in order; a worker killed mid-delivery loses nothing) and
``portal/notifications/tests/test_sending.py`` / ``tickets/tests/test_notifications.py``
(a retried or taken-over notification job sends no email twice).
"""

import json

import pytest
from django.core.exceptions import ValidationError

from tickets import attachments, services
from tickets.models import Attachment, Comment, Ticket, TicketEvent
from tickets.tests.factories import png_bytes, upload
from tickets.tests.test_attachments_s3 import BUCKET, moto_endpoint  # noqa: F401

from .servers import closed_port, fetch, gunicorn

FRIENDLY = "We&#x27;ll be right back"


@pytest.fixture(scope="module")
def site_without_database():
    env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/gone",
    }
    with gunicorn(env) as base:
        yield base


def test_healthz_reports_the_database_down_with_503(site_without_database):
    status, headers, body = fetch(site_without_database + "/healthz")
    assert status == 503
    report = json.loads(body)
    assert report["status"] == "unavailable"
    assert report["checks"]["database"]["ok"] is False
    assert report["checks"]["database"]["detail"] == "OperationalError"
    assert report["checks"]["storage"] == {"ok": True, "detail": "ok"}


@pytest.mark.parametrize(
    ("path", "cookies"),
    [
        ("/", ""),
        ("/kb/", ""),
        ("/kb/search/?q=sync", ""),
        ("/portal/attachments/1/report.pdf", ""),
        ("/", "sessionid=an-old-session"),  # a signed-in reader's session lookup
    ],
)
def test_pages_answer_a_friendly_503_without_a_stack_trace(
    site_without_database, path, cookies
):
    headers = {"Cookie": cookies} if cookies else {}
    status, response_headers, body = fetch(
        site_without_database + path, headers=headers
    )
    html = body.decode()
    assert status == 503
    assert response_headers["Retry-After"] == "30"
    assert "We'll be right back" in html or FRIENDLY in html
    for leak in ("Traceback", "OperationalError", "psycopg", "127.0.0.1", "gone"):
        assert leak not in html


def test_json_clients_get_a_json_503(site_without_database):
    status, headers, body = fetch(
        site_without_database + "/kb/suggest/?q=sync",
        headers={"Accept": "application/json"},
    )
    assert status == 503
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "errors": [
            {"message": "The service is temporarily unavailable. Please retry shortly."}
        ]
    }


# --- the attachment store -------------------------------------------------------------


def s3_settings(endpoint):
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET,
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "access_key": "testing",
            "secret_key": "testing",
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "location": "attachments",
        },
    }


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Ticket, Comment, Attachment, TicketEvent)
    }


@pytest.fixture
def s3_down(settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": s3_settings(f"http://127.0.0.1:{closed_port()}"),
    }


def test_s3_down_refuses_a_new_ticket_with_a_clear_message_and_writes_nothing(
    s3_down, alice, queue
):
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.create_ticket(
            alice,
            subject="Screenshot",
            description="attached",
            attachments=[upload("screen.png", png_bytes())],
        )
    assert refused.value.messages == [
        "“screen.png” could not be stored right now; nothing was saved. "
        "Please try again in a few minutes."
    ]
    assert refused.value.code == "ATTACHMENT_STORAGE_UNAVAILABLE"
    assert counts() == before


def test_s3_down_refuses_a_reply_with_files_and_writes_nothing(
    settings, monkeypatch, ticket, alice
):
    before = counts()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": s3_settings(f"http://127.0.0.1:{closed_port()}"),
    }
    with pytest.raises(ValidationError) as refused:
        services.reply(
            alice,
            ticket,
            body="see the log",
            attachments=[upload("a.log", b"ok\n"), upload("b.png", png_bytes())],
        )
    assert refused.value.code == "ATTACHMENT_STORAGE_UNAVAILABLE"
    assert counts() == before
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_uploads_work_again_once_s3_is_back(
    moto_endpoint,  # noqa: F811
    settings,
    monkeypatch,
    alice,
    queue,
):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106
    ).create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": s3_settings(f"http://127.0.0.1:{closed_port()}"),
    }
    with pytest.raises(ValidationError):
        services.create_ticket(
            alice,
            subject="s",
            description="d",
            attachments=[upload("a.png", png_bytes())],
        )

    settings.STORAGES = {**settings.STORAGES, "attachments": s3_settings(moto_endpoint)}
    ticket = services.create_ticket(
        alice, subject="s", description="d", attachments=[upload("a.png", png_bytes())]
    )

    assert Ticket.objects.get() == ticket
    stored = Attachment.objects.get()
    assert b"".join(attachments.read_range(stored)) == png_bytes()


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json", "Authorization": "Bearer hdp_abc.def"},
        {"Content-Type": "application/json", "Cookie": "sessionid=an-old-session"},
    ],
)
def test_graphql_answers_a_json_503(site_without_database, headers):
    status, response_headers, body = fetch(
        site_without_database + "/graphql/",
        data=json.dumps({"query": "{ categories { title } }"}).encode(),
        headers=headers,
        method="POST",
    )
    assert status == 503
    assert response_headers["Content-Type"] == "application/json"
    assert response_headers["Retry-After"] == "30"
    assert json.loads(body)["errors"][0]["message"] == (
        "The service is temporarily unavailable. Please retry shortly."
    )
