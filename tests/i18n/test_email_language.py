"""Emails are written in the recipient's language, whoever triggered them."""

import pytest
from django.core import mail
from django.utils import translation

from accounts.models import User
from portal.notifications.sending import Outcome, send_notification


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("locale", "subject"),
    [
        ("ru", "Ваша учётная запись разблокирована"),
        ("pl", "Konto zostało odblokowane"),
        ("", "Your account was unlocked"),  # no profile language: English
        ("xx", "Your account was unlocked"),  # a bad value: English, silently
    ],
)
def test_an_email_is_in_the_recipients_language(make_user, locale, subject):
    recipient = make_user("customer@example.com")
    User.objects.filter(pk=recipient.pk).update(locale=locale)
    recipient.refresh_from_db()
    # triggered by someone reading the site in another language
    with translation.override("pl" if locale != "pl" else "ru"):
        outcome = send_notification(
            "account_unlocked",
            recipient,
            context={},
            idempotency_key=f"unlock-{locale}",
        )
    assert outcome == Outcome.SENT
    [email] = mail.outbox
    assert email.subject == subject
