"""Text attachments (a report's CSV) travel with the outbox row: stored when the email
is written, sent with it, the same on a retry, never shown to the templates."""

from unittest import mock

import pytest
from django.core import mail

from portal.notifications.dispatch import write_notifications
from portal.notifications.models import SentNotification
from portal.notifications.sending import (
    ATTACHMENTS_KEY,
    EmailAttachment,
    Outgoing,
    deliver_due,
)

CSV = "Queue,Tickets\r\n'=SUM(1),3\r\nTotal,3\r\n"


@pytest.fixture
def alice(make_user):
    return make_user("alice@acme.example", display_name="Alice")


def message(recipient, key="weekly:1:account_approved"):
    return Outgoing(
        kind="account_approved",
        recipient=recipient,
        context={"note": "plain"},
        idempotency_key=key,
        attachments=(EmailAttachment("report.csv", CSV, "text/csv"),),
    )


@pytest.mark.django_db
def test_the_attachment_is_stored_and_sent(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert write_notifications([message(alice)]) == [None]
    [email] = mail.outbox
    [(name, content, mimetype)] = email.attachments
    assert (name, content) == ("report.csv", CSV)
    assert mimetype.startswith("text/csv")
    row = SentNotification.objects.get()
    assert row.status == "sent"
    assert row.context == {
        "note": "plain",
        ATTACHMENTS_KEY: [
            {"filename": "report.csv", "content": CSV, "mimetype": "text/csv"}
        ],
    }
    assert "report.csv" not in email.body  # the templates never saw the key


@pytest.mark.django_db
def test_a_retry_sends_the_same_attachment_once(
    alice, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS = 0
    with (
        mock.patch(
            "django.core.mail.EmailMultiAlternatives.send",
            side_effect=ConnectionError("smtp down"),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        write_notifications([message(alice)])
    assert mail.outbox == []
    assert SentNotification.objects.get().status == "pending"
    deliver_due()
    deliver_due()
    [email] = mail.outbox
    assert email.attachments[0][1] == CSV


@pytest.mark.django_db
def test_an_email_without_attachments_stores_no_key(alice):
    write_notifications(
        [
            Outgoing(
                kind="account_approved",
                recipient=alice,
                context={},
                idempotency_key="k:1:account_approved",
            )
        ]
    )
    assert SentNotification.objects.get().context == {}
