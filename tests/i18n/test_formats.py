"""Dates and numbers follow the reader's language, with one named format on every
surface (portal/formats/<lang>/formats.py): the same ticket's creation time on the
customer's ticket page and on the agent's workspace reads the same way."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import formats, translation

from portal.notifications import sending
from portal.notifications.models import SentNotification
from tickets.desk.reports import ReportRow
from tickets.models import Ticket
from tickets.notifications_handlers import _format_time
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
    make_supervisor,
)

User = get_user_model()
CREATED = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)
REPORTED = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
# DATETIME_FORMAT "d M Y H:i" in every language; the month in the reader's language
SHOWN = {
    "en": "03 Dec 2026 14:05",
    "pl": "03 Gru 2026 14:05",
    "ru": "03 Дек 2026 14:05",
}


@pytest.fixture
def ticket(db):
    queue = QueueFactory(slug="support", name="Support", is_default=True)
    acme = OrganizationFactory(name="Acme", slug="acme")
    customer = make_customer(acme, email="alice@acme.example")
    make_agent(queue, email="agent@example.com")
    ticket = TicketFactory(requester=customer, queue=queue, organization=acme)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=CREATED)
    return ticket


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
@pytest.mark.parametrize(
    "who, path",
    [
        ("alice@acme.example", "/portal/tickets/{ref}/"),
        ("agent@example.com", "/admin/helpdesk/tickets/{ref}/"),
    ],
    ids=["portal", "desk"],
)
def test_ticket_creation_time_in_the_readers_language(
    client, ticket, language, who, path
):
    user = User.objects.get(email=who)
    User.objects.filter(pk=user.pk).update(locale=language)
    client.force_login(user)
    response = client.get(path.format(ref=ticket.reference))
    assert response.status_code == 200
    body = response.content.decode()
    with translation.override(language):
        assert formats.date_format(CREATED, "DATETIME_FORMAT") == SHOWN[language]
    assert f'<time datetime="{CREATED.isoformat()}">{SHOWN[language]}</time>' in body
    assert SHOWN["en" if language != "en" else "pl"] not in body


@pytest.mark.parametrize(
    "language, expected",
    [
        ("en", ["1,234", "0", "0", "1.5", "26.0", "28.6", "4.33", "3"]),
        ("pl", ["1\xa0234", "0", "0", "1,5", "26,0", "28,6", "4,33", "3"]),
        ("ru", ["1\xa0234", "0", "0", "1,5", "26,0", "28,6", "4,33", "3"]),
    ],
)
def test_report_numbers_in_the_readers_language(language, expected):
    row = ReportRow(
        label="Support",
        volume=1234,
        median_first_response_seconds=5400,
        median_resolution_seconds=26 * 3600,
        sla_met_percent=28.57,
        csat=13 / 3,
        rated=3,
    )
    with translation.override(language):
        assert row.display() == expected
    # the CSV keeps one machine-readable form whatever the language
    with translation.override(language):
        assert row.record() == [1234, 0, 0, "1.5", "26.0", "28.6", "4.33", 3]


def test_every_language_defines_the_projects_own_format():
    """Django prints an unknown format name verbatim: each language module must
    define DAY_MONTH_TIME_FORMAT (the desk's compact "03 Dec 14:05")."""
    for language, shown in (("en", "Dec"), ("pl", "Gru"), ("ru", "Дек")):
        with translation.override(language):
            assert formats.date_format(CREATED, "DAY_MONTH_TIME_FORMAT") == (
                f"03 {shown} 14:05"
            )


@pytest.mark.parametrize(
    "language, cells", [("en", ["1.5", "4.50"]), ("pl", ["1,5", "4,50"])]
)
def test_reports_page_prints_numbers_in_the_readers_language(
    client, ticket, language, cells
):
    """Two tickets answered after 1.5 hours, resolved and rated 4 and 5: the page
    shows the median and the CSAT average with the reader's decimal separator."""
    supervisor = make_supervisor(email="supervisor@example.com")
    second = TicketFactory(
        requester=ticket.requester, queue=ticket.queue, organization=ticket.organization
    )
    for t, rating in ((ticket, 4), (second, 5)):
        Ticket.objects.filter(pk=t.pk).update(
            created_at=REPORTED,
            first_responded_at=REPORTED + timedelta(hours=1.5),
            resolved_at=REPORTED + timedelta(hours=2),
            status="resolved",
            satisfaction_rating=rating,
        )
    User.objects.filter(pk=supervisor.pk).update(locale=language)
    client.force_login(supervisor)
    day = REPORTED.date().isoformat()
    page = client.get(
        "/admin/helpdesk/reports/", {"dimension": "queue", "start": day, "end": day}
    )
    assert page.status_code == 200
    body = page.content.decode()
    for cell in cells:
        assert f"<td>{cell}</td>" in body
    other = {"en": "4,50", "pl": "4.50"}[language]
    assert f"<td>{other}</td>" not in body


@pytest.mark.parametrize(
    "language, shown",
    [
        ("en", "03 Dec 2026 14:05 UTC"),
        ("pl", "03 Gru 2026 14:05 UTC"),
        ("ru", "03 Дек 2026 14:05 UTC"),
    ],
)
def test_sla_email_due_time_in_the_recipients_language(make_user, language, shown):
    """The SLA-breach email's due time, as stored for the email (the context is
    written when the change happens, in the recipient's language, whoever is active)."""
    recipient = make_user(f"{language}@example.com", locale=language)
    message = sending.Outgoing(
        kind="ticket_sla_breached",
        recipient=recipient,
        context={"due_at": _format_time(CREATED)},
        idempotency_key="due",
    )
    with translation.override("ru" if language != "ru" else "en"):
        sending.store([message])
    assert SentNotification.objects.get(recipient=recipient).context == {
        "due_at": shown
    }
