"""The filing's success message, translated once per language
(``portal.translations.translated``): the same text ``gettext`` gives, in the
requester's language, on the ticket's page after the redirect; a language's text is
never another's."""

import pytest
from django.contrib.messages import get_messages
from django.utils import translation
from django.utils.translation import gettext

from portal import translations
from tickets.models import Ticket
from tickets.portal import new

from .portal_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

MSGIDS = (
    new.FILED,
    "Subject",
    "Priority",
    "A message no catalogue has, kept as it is.",
)


@pytest.mark.parametrize("language", ["en", "pl", "ru", None])
def test_translated_is_gettext_in_the_active_language(language, monkeypatch):
    monkeypatch.setattr(translations, "_TRANSLATED", {})
    with translation.override(language):
        expected = {msgid: gettext(msgid) for msgid in MSGIDS}
        assert translations.translated(MSGIDS) == expected
        asked = []
        monkeypatch.setattr(translations, "gettext", asked.append)
        assert translations.translated(MSGIDS) == expected  # kept
        assert asked == []


def test_each_language_keeps_its_own(monkeypatch):
    monkeypatch.setattr(translations, "_TRANSLATED", {})
    texts = {}
    for language in ("pl", "en", "ru", "pl"):
        with translation.override(language):
            texts.setdefault(language, set()).add(
                translations.translated((new.FILED,))[new.FILED]
            )
    assert all(len(found) == 1 for found in texts.values())
    assert len({found.pop() for found in texts.values()}) == 3  # not English twice


@pytest.mark.parametrize("locale", ["", "en", "pl", "ru"])
def test_the_ticket_page_shows_the_message_in_the_requesters_language(
    locale, alice, alice_client, queue
):
    alice.locale = locale
    alice.save(update_fields=["locale"])
    response = alice_client.post(
        "/portal/tickets/new/",
        {
            "subject": "Cannot log in",
            "description": "The page says my password is wrong.",
            "category": "account",
            "priority": "high",
        },
        follow=True,
    )
    ticket = Ticket.objects.get()
    with translation.override(locale or "en"):
        expected = gettext("Ticket %(ref)s filed. We will reply here and by email.") % {
            "ref": ticket.reference
        }
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert response.redirect_chain == [(f"/portal/tickets/{ticket.reference}/", 302)]
    assert expected in response.content.decode()
    if locale in ("pl", "ru"):
        assert "We will reply here" not in expected  # translated
    assert shown == [expected]  # the page's request read it
