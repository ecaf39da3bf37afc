"""Filing a ticket from the portal, with suggestions and deflection records."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tickets.deflection import deflection_rate, deflection_stats
from tickets.models import Attachment, DeflectionEvent, Ticket

from .factories import OrganizationFactory, png_bytes, upload
from .portal_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

URL = "/portal/tickets/new/"


def post_data(**extra):
    data = {
        "subject": "Cannot log in",
        "description": "The page says my password is wrong.",
        "category": "account",
        "priority": "high",
    }
    data.update(extra)
    return data


def test_form_renders_with_multiple_file_input(alice_client):
    response = alice_client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'type="file" name="attachments" multiple' in body
    assert 'name="deflection_token"' in body
    assert 'aria-live="polite"' in body
    # alice is in one organization: no organization choice
    assert 'name="organization"' not in body


def test_file_a_ticket_with_two_attachments(alice_client, alice, acme, queue):
    token = str(uuid.uuid4())
    response = alice_client.post(
        URL,
        post_data(
            attachments=[
                upload("screen.png", png_bytes()),
                upload("log.txt", b"error 42\n"),
            ],
            deflection_token=token,
            suggestions_shown="3",
            suggestion_clicked="/kb/accounts/reset/",
        ),
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/portal/tickets/{ticket.reference}/"
    assert (ticket.subject, ticket.priority, ticket.category, ticket.source) == (
        "Cannot log in",
        "high",
        "account",
        "portal",
    )
    assert ticket.requester == alice
    assert ticket.organization == acme
    assert sorted(Attachment.objects.values_list("original_name", flat=True)) == [
        "log.txt",
        "screen.png",
    ]
    event = DeflectionEvent.objects.get()
    assert (event.token, event.outcome, event.ticket, event.user) == (
        uuid.UUID(token),
        "filed",
        ticket,
        alice,
    )
    assert (event.shown_count, event.clicked_url, event.query) == (
        3,
        "/kb/accounts/reset/",
        "Cannot log in",
    )


def test_missing_fields_show_errors_next_to_them(alice_client):
    response = alice_client.post(URL, post_data(subject="", priority="urgent"))
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["subject"] == ["This field is required."]
    assert "priority" in form.errors
    assert Ticket.objects.count() == 0
    assert DeflectionEvent.objects.count() == 0


def test_bad_attachment_is_refused_and_nothing_is_written(alice_client):
    response = alice_client.post(
        URL,
        post_data(
            attachments=[upload("ok.png", png_bytes()), upload("evil.png", b"MZ\x90")]
        ),
    )
    assert response.status_code == 400
    assert response.context["form"].errors["attachments"] == [
        "“evil.png”: this type of file (application/x-msdownload) is not accepted."
    ]
    assert Ticket.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_whitespace_subject_is_refused_by_the_service(alice_client):
    response = alice_client.post(URL, post_data(subject="   \x00 "))
    assert response.status_code == 400
    assert Ticket.objects.count() == 0


def test_tampered_hidden_fields_still_file(alice_client, alice):
    response = alice_client.post(
        URL,
        post_data(
            deflection_token="not-a-uuid",
            suggestions_shown="lots",
            suggestion_clicked="javascript:alert(1)",
        ),
    )
    assert response.status_code == 302
    event = DeflectionEvent.objects.get()
    assert (event.shown_count, event.clicked_url, event.outcome) == (0, "", "filed")


def test_user_in_several_organizations_chooses_one(client, alice, acme, queue):
    from accounts.services import setup_member

    other = OrganizationFactory(name="Zeta", slug="zeta")
    setup_member(other, alice)
    stranger = OrganizationFactory(name="Stranger", slug="stranger")
    client.force_login(alice)
    body = client.get(URL).content.decode()
    assert 'name="organization"' in body
    refused = client.post(URL, post_data(organization=stranger.pk))
    assert refused.status_code == 400
    assert "organization" in refused.context["form"].errors
    assert Ticket.objects.count() == 0
    client.post(URL, post_data(organization=other.pk))
    assert Ticket.objects.get().organization == other


def test_server_side_suggestions_without_javascript(alice_client, make_article):
    make_article("Reset your password", summary="Forgot it? Reset it by email.")
    response = alice_client.get(URL + "?subject=password")
    body = response.content.decode()
    assert [a.title for a in response.context["suggestions"]] == ["Reset your password"]
    assert "?from=deflection" in body
    assert response.context["form"]["subject"].value() == "password"


def test_beacon_records_a_deflection_and_filing_later_wins(alice_client, alice):
    token = str(uuid.uuid4())
    response = alice_client.post(
        "/portal/deflection/",
        {"token": token, "query": "login", "shown": "2", "clicked_url": "/kb/a/b/"},
    )
    assert response.status_code == 202
    event = DeflectionEvent.objects.get()
    assert (event.outcome, event.shown_count, event.clicked_url) == (
        "deflected",
        2,
        "/kb/a/b/",
    )
    alice_client.post(URL, post_data(deflection_token=token, suggestions_shown="2"))
    event.refresh_from_db()
    assert event.outcome == "filed"
    assert event.ticket == Ticket.objects.get()
    # a late beacon for a filed form does not turn it back into a deflection
    alice_client.post("/portal/deflection/", {"token": token, "clicked_url": "/x/"})
    event.refresh_from_db()
    assert event.outcome == "filed"


def test_beacon_refuses_bad_token_and_other_users_token(client, alice, bob):
    client.force_login(alice)
    assert client.post("/portal/deflection/", {"token": "nope"}).status_code == 400
    token = str(uuid.uuid4())
    client.post("/portal/deflection/", {"token": token, "clicked_url": "/kb/x/"})
    client.force_login(bob)
    response = client.post(
        "/portal/deflection/", {"token": token, "clicked_url": "/kb/other/"}
    )
    assert response.status_code == 400
    assert DeflectionEvent.objects.get().clicked_url == "/kb/x/"


def test_beacon_needs_login_and_post(client):
    assert client.post("/portal/deflection/", {"token": str(uuid.uuid4())})[
        "Location"
    ].startswith("/accounts/login/")
    assert DeflectionEvent.objects.count() == 0


def test_deflection_rate(alice):
    now = timezone.now()
    for outcome, shown, clicked in [
        ("deflected", 3, "/kb/a/"),
        ("deflected", 1, "/kb/b/"),
        ("filed", 2, ""),
        ("filed", 0, ""),
    ]:
        DeflectionEvent.objects.create(
            token=uuid.uuid4(),
            user=alice,
            outcome=outcome,
            shown_count=shown,
            clicked_url=clicked,
        )
    DeflectionEvent.objects.create(
        token=uuid.uuid4(), outcome="deflected", created_at=now - timedelta(days=40)
    )
    since = now - timedelta(days=30)
    assert deflection_rate(since) == 0.5
    stats = deflection_stats(since)
    assert (stats.shown, stats.clicked, stats.deflected, stats.filed) == (3, 2, 2, 2)
    assert deflection_rate(now + timedelta(days=1)) is None


def test_filing_after_coming_back_with_a_reloaded_form_is_not_a_deflection(
    alice_client, alice
):
    alice_client.get(URL)  # gives the session a key
    first = str(uuid.uuid4())
    alice_client.post(
        "/portal/deflection/", {"token": first, "shown": "2", "clicked_url": "/kb/a/"}
    )
    assert alice_client.session.session_key
    reloaded = str(uuid.uuid4())
    alice_client.post(URL, post_data(deflection_token=reloaded))
    event = DeflectionEvent.objects.get()
    assert (str(event.token), event.outcome, event.clicked_url) == (
        first,
        "filed",
        "/kb/a/",
    )
    assert event.ticket == Ticket.objects.get()


def test_beacon_strips_nul_bytes(alice_client):
    token = str(uuid.uuid4())
    response = alice_client.post(
        "/portal/deflection/",
        {"token": token, "query": "log\x00in", "clicked_url": "/kb/\x00a/"},
    )
    assert response.status_code == 202
    event = DeflectionEvent.objects.get()
    assert (event.query, event.clicked_url) == ("login", "/kb/a/")


def test_accounts_rule_can_forbid_filing(alice_client, alice, settings):
    from accounts.models import ApprovalStatus

    settings.ACCOUNT_APPROVAL_REQUIRED = True
    alice.approval_status = ApprovalStatus.PENDING
    alice.save()
    assert alice_client.get(URL).status_code == 404
    assert alice_client.post(URL, post_data()).status_code == 404
    assert Ticket.objects.count() == 0
    dashboard = alice_client.get("/portal/")
    assert dashboard.context["can_file"] is False
    assert (
        'class="button" href="/portal/tickets/new/"' not in dashboard.content.decode()
    )


# --- what a filing costs, and that it is all or nothing ---------------------------------


def _stored_files(settings):
    from pathlib import Path

    root = Path(settings.STORAGES["attachments"]["OPTIONS"]["location"])
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("with_file", [False, True], ids=["plain", "attachment"])
def test_filing_costs_a_fixed_number_of_statements(
    alice_client, queue, agent, with_file, django_assert_num_queries
):
    from django.db import connection

    alice_client.post(URL, post_data())  # warm: the session exists, ids are cached
    extra = {"attachments": [upload("screen.png", png_bytes())]} if with_file else {}
    # the session; the user with their roles (accounts.session_user); their
    # organizations (read once for the form and the service); savepoint (the test's
    # transaction: BEGIN in production); the default queue and the default SLA
    # policy; the reference (SQLite: counter row, free number, update; PostgreSQL:
    # drawn by the ticket's INSERT); the ticket; its grants (SQLite: users' and
    # groups', PostgreSQL: one statement that writes the ticket and the event too);
    # [the attachment]; the event (SQLite; [PostgreSQL: the attachment's]); the
    # webhooks; the queue's agents with their roles; the outbox rows; the session's
    # recent deflection and the deflection record (PostgreSQL: in the statement that
    # writes the ticket); release.
    expected = 11 if connection.vendor == "postgresql" else 19
    # a file: its row, and its event (SQLite: in the INSERT of the first event;
    # PostgreSQL: after the first event, which the grants' statement wrote)
    per_file = 2 if connection.vendor == "postgresql" else 1
    with django_assert_num_queries(expected + with_file * per_file):
        response = alice_client.post(URL, post_data(**extra))
    assert response.status_code == 302
    assert Ticket.objects.count() == 2
    assert Attachment.objects.count() == with_file


def test_several_organizations_are_read_once_for_the_form(client, alice, acme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.services import setup_member

    setup_member(OrganizationFactory(name="Zeta", slug="zeta"), alice)
    client.force_login(alice)
    with CaptureQueriesContext(connection) as captured:
        body = client.get(URL).content.decode()
    assert body.index(">Acme</option>") < body.index(">Zeta</option>")
    reads = [q["sql"] for q in captured if '"accounts_organization"' in q["sql"]]
    assert len(reads) == 1


@pytest.mark.parametrize("with_file", [True, False], ids=["attachment", "plain"])
@pytest.mark.parametrize(
    "failing", ["outbox", "grants", "grants_and_event", "deflection"]
)
def test_a_failure_after_the_ticket_is_written_leaves_nothing(
    alice_client, queue, agent, settings, failing, with_file, monkeypatch
):
    """Whatever fails after the ticket's INSERT (its grants, the emails' outbox, the
    deflection record written after the service returned), the filing is undone as
    a whole: no ticket, event, grant, outbox row, deflection record or stored file."""
    from portal.notifications.models import SentNotification
    from tickets import deflection, grants, notifications_handlers
    from tickets.models import TicketEvent, TicketUserObjectPermission

    def written_then_fail(real):
        def fail(*args, **kwargs):
            real(*args, **kwargs)
            raise RuntimeError("disk full")

        return fail

    target = {
        "outbox": (notifications_handlers, "write_notifications"),
        "grants": (grants, "sync_ticket_permissions"),
        # the statement that writes them with the first event (PostgreSQL)
        "grants_and_event": (grants, "grant_new_ticket"),
        # once its row is written or its token known (PostgreSQL: by the statement
        # that writes the ticket)
        "deflection": (deflection, "_recorded"),
    }[failing]
    monkeypatch.setattr(*target, written_then_fail(getattr(*target)))
    extra = {"attachments": [upload("screen.png", png_bytes())]} if with_file else {}
    with pytest.raises(RuntimeError, match="disk full"):
        alice_client.post(URL, post_data(**extra))
    assert Ticket.objects.count() == 0
    assert TicketEvent.objects.count() == 0
    assert TicketUserObjectPermission.objects.count() == 0
    assert SentNotification.objects.count() == 0
    assert DeflectionEvent.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert _stored_files(settings) == []
