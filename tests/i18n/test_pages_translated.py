"""The main pages, rendered in Polish and in Russian, show none of our English
source strings.

The strings looked for are our own (the msgids of ``locale/<lang>/LC_MESSAGES/
django.po``) that the English version of the same page shows and whose translation
differs from the English (so "OK", "SLA" or product names are not counted); each page
must show at least a few of them in English, so the check cannot pass vacuously.
"""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.cache import cache
from wagtail.models import Locale

from accounts.models import User
from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
    make_supervisor,
)

from .catalogues import catalogue_path, read

MIN_STRINGS = 3


def source_strings(language: str) -> list[str]:
    """Our msgids worth looking for: translated to something else, without
    placeholders, long enough not to be part of other words' text."""
    found = []
    for entry in read(catalogue_path(language, "django")):
        msgid, msgstr = entry.msgid, entry.msgstr.get(0, "")
        if entry.msgid_plural is not None or not msgstr or msgstr == msgid:
            continue
        if "%" in msgid or "{" in msgid or "<" in msgid or len(msgid) < 6:
            continue
        if msgid in settings.WAGTAIL_SITE_NAME:  # the product's name
            continue
        found.append(msgid)
    return found


class _VisibleText(HTMLParser):
    """Text a reader sees or hears: text nodes outside script and style, and the
    attributes read out or shown (aria-label, title, placeholder, alt, button
    values); not class names, URLs or form field names."""

    ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        for name, value in attrs:
            if value and (
                name in self.ATTRIBUTES
                or (name == "value" and dict(attrs).get("type") in ("submit", "button"))
            ):
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def text_of(response) -> str:
    parser = _VisibleText()
    parser.feed(response.content.decode())
    parts = (re.sub(r"\s+", " ", part).strip() for part in parser.parts)
    return "| " + " | ".join(p for p in parts if p) + " |"


def shown(strings: list[str], text: str) -> set[str]:
    """The strings in ``text``: a phrase anywhere, a single word only as the whole
    of a text node or attribute (a lone "comments" inside a sentence of Wagtail's own
    is not ours)."""
    found = set()
    for string in strings:
        if " " in string:
            pattern = r"(?<![\w-])" + re.escape(string) + r"(?![\w-])"
        else:
            pattern = r"\| " + re.escape(string) + r" \|"
        if re.search(pattern, text):
            found.add(string)
    return found


@pytest.fixture
def world(db):
    cache.clear()
    kb = KnowledgeBasePage.objects.get(locale=Locale.get_default())
    category = CategoryPage(title="Getting started", slug="getting-started")
    kb.add_child(instance=category)
    category.save_revision().publish()
    article = ArticlePage(
        title="Sync your files",
        slug="sync-your-files",
        summary="How syncing works.",
        audience="public",
        body=[("paragraph", "<p>Lumen keeps your files in sync.</p>")],
    )
    category.add_child(instance=article)
    article.save_revision().publish()
    # the KB index and its category are translated, the article is not (it falls back
    # to English with a note, under the translated index)
    for code, kb_title, category_title in (
        ("pl", "Baza wiedzy", "Pierwsze kroki"),
        ("ru", "База знаний", "Начало работы"),
    ):
        locale, _ = Locale.objects.get_or_create(language_code=code)
        for page, title in ((kb, kb_title), (category, category_title)):
            translated = page.copy_for_translation(locale, copy_parents=True).specific
            translated.title = title
            translated.save_revision().publish()
    queue = QueueFactory(slug="support", name="Support", is_default=True)
    acme = OrganizationFactory(name="Acme", slug="acme")
    customer = make_customer(acme, email="alice@acme.example", display_name="Alice")
    agent = make_agent(queue, email="agent@example.com", display_name="Alex")
    supervisor = make_supervisor(email="supervisor@example.com")
    ticket = TicketFactory(
        requester=customer, queue=queue, organization=acme, subject="Zxq laptop"
    )
    yield {
        "customer": customer,
        "agent": agent,
        "supervisor": supervisor,
        "ticket": ticket,
        "article": article,
    }
    cache.clear()


PUBLIC = {
    "home": "/",
    "kb index": "/kb/",
    "article": "/kb/getting-started/sync-your-files/",
    "search": "/kb/search/?q=sync",
    "sign-in": "/accounts/login/",
}
SIGNED_IN = {
    "portal dashboard": ("customer", "/portal/"),
    "ticket list": ("customer", "/portal/tickets/"),
    "ticket page": ("customer", "/portal/tickets/{reference}/"),
    "new ticket": ("customer", "/portal/tickets/new/"),
    "desk inbox": ("agent", "/admin/helpdesk/tickets/"),
    "workspace": ("agent", "/admin/helpdesk/tickets/{reference}/"),
    "reports": ("supervisor", "/admin/helpdesk/reports/"),
}


def _check(english, translated, language, name):
    strings = source_strings(language)
    assert english.status_code == 200, name
    assert translated.status_code == 200, name
    in_english = shown(strings, text_of(english))
    assert len(in_english) >= MIN_STRINGS, (name, sorted(in_english))
    text = text_of(translated)
    left = shown(sorted(in_english), text)
    assert not left, f"{name} in {language} still shows: " + "; ".join(
        f"{s!r} in …{text[max(text.index(s) - 60, 0) : text.index(s) + 60]}…"
        for s in sorted(left)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["pl", "ru"])
@pytest.mark.parametrize("name", list(PUBLIC))
def test_public_page_shows_no_english(client, world, language, name):
    path = PUBLIC[name]
    _check(client.get(path), client.get(f"/{language}{path}"), language, name)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["pl", "ru"])
@pytest.mark.parametrize("name", list(SIGNED_IN))
def test_signed_in_page_shows_no_english(client, world, language, name):
    who, path = SIGNED_IN[name]
    user = world[who]
    path = path.format(reference=world["ticket"].reference)
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(locale="en")
    english = client.get(path)
    User.objects.filter(pk=user.pk).update(locale=language)
    translated = client.get(path)
    _check(english, translated, language, name)
