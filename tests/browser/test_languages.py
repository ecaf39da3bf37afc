"""The product in Polish and Russian, in a real browser (Chromium): an anonymous
visitor switches to Polish with the header's switcher, searches the knowledge base in
Polish, signs in and files a ticket; the confirmation email is in Polish. Screenshots
of the home page and the portal in Polish and Russian land in test-artifacts/.

Run: ``.venv/bin/pytest -m browser tests/browser/test_languages.py``.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import expect
from wagtail.models import Locale

from tickets.models import Ticket
from tickets.tests.factories import PASSWORD, QueueFactory, make_customer

from .site import add_article, build_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _no_cached_pages():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def polish_article(db):
    """An English article and its Polish translation (with the pages above it)."""
    kb = build_site()
    article = add_article(
        kb,
        "Reset your password",
        "Forgot your password? Reset it from the sign-in page.",
        "Open the sign-in page and choose Forgot password to get a reset link.",
    )
    polish, _ = Locale.objects.get_or_create(language_code="pl")
    translated = article.copy_for_translation(polish, copy_parents=True).specific
    translated.title = "Nie pamiętam hasła"
    translated.slug = "nie-pamietam-hasla"
    translated.summary = "Zapomniane hasło można zresetować na stronie logowania."
    translated.body = [
        (
            "paragraph",
            "<p>Otwórz stronę logowania i wybierz „Nie pamiętasz hasła?”.</p>",
        )
    ]
    translated.save_revision().publish()
    for ancestor in translated.get_ancestors().filter(depth__gt=1).specific():
        if not ancestor.live:
            ancestor.save_revision().publish()
    return translated


def test_polish_visitor_searches_signs_in_files_a_ticket_and_gets_polish_mail(
    page, live_server, polish_article, screenshot
):
    base = live_server.url
    QueueFactory(slug="support", name="Support", is_default=True)
    customer = make_customer(email="ola@example.pl", display_name="Ola")
    assert customer.locale == ""
    EmailAddress.objects.create(
        user=customer, email=customer.email, verified=True, primary=True
    )

    # an anonymous visitor switches to Polish in the header (keyboard-reachable form)
    page.goto(f"{base}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Language").select_option("pl")
    page.get_by_role("button", name="Change language").click()
    expect(page).to_have_url(f"{base}/pl/")
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    header = page.locator("header.site-header")
    expect(header.get_by_role("link", name="Baza wiedzy")).to_be_visible()
    expect(header.get_by_role("button", name="Zmień język")).to_be_visible()
    expect(page.get_by_role("heading", name="Moje zgłoszenia")).to_be_visible()
    screenshot("i18n-pl-home")

    # searches the knowledge base in Polish: the header's link keeps the prefix (the
    # home page's own search form posts to the unprefixed /kb/search/, i.e. English)
    header.get_by_role("link", name="Baza wiedzy").click()
    expect(page).to_have_url(f"{base}/pl/kb/")
    search = page.get_by_label("Przeszukaj bazę wiedzy")
    search.fill("hasła")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/pl/kb/search/\?q="))
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    result = page.get_by_role("link", name="Nie pamiętam hasła")
    expect(result).to_be_visible()
    expect(page.get_by_role("link", name="Reset your password")).to_have_count(0)
    screenshot("i18n-pl-search")

    # signs in with the sign-in form, in Polish
    page.locator("header.site-header").get_by_role("link", name="Zaloguj się").click()
    expect(page).to_have_url(re.compile(r"/pl/accounts/login/"))
    page.fill("input[name=login]", customer.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_load_state()
    customer.refresh_from_db()
    assert customer.locale == "pl"  # adopted the language they were reading in

    # files a ticket in the portal, in Polish
    page.goto(f"{base}/portal/")
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    screenshot("i18n-pl-portal")
    page.goto(f"{base}/portal/tickets/new/")
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    page.get_by_label("Temat").fill("Drukarka nie drukuje")
    page.get_by_label("Opis").fill("Po aktualizacji drukarka przestała drukować.")
    page.get_by_role("button", name="Złóż zgłoszenie").click()
    ticket = Ticket.objects.get()
    expect(page).to_have_url(f"{base}/portal/tickets/{ticket.reference}/")
    expect(page.get_by_text("Drukarka nie drukuje").first).to_be_visible()
    screenshot("i18n-pl-ticket")

    # the confirmation email is in Polish
    to_customer = [m for m in mail.outbox if m.to == [customer.email]]
    assert len(to_customer) == 1, [(m.to, m.subject) for m in mail.outbox]
    email = to_customer[0]
    assert email.subject == (
        f"[{ticket.reference}] Otrzymaliśmy zgłoszenie: Drukarka nie drukuje"
    )
    assert (
        f"Otrzymaliśmy zgłoszenie i nadaliśmy mu numer {ticket.reference}."
        in email.body
    )
    assert "We received your request" not in email.subject + email.body

    # the same pages in Russian
    customer.locale = "ru"
    customer.save(update_fields=["locale"])
    page.goto(f"{base}/portal/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("header.site-header")).to_contain_text("Мои заявки")
    screenshot("i18n-ru-portal")
    page.context.clear_cookies()
    page.goto(f"{base}/ru/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_label("Поиск по базе знаний")).to_be_visible()
    screenshot("i18n-ru-home")
