"""KB search in the reader's language: each language finds its own articles only;
Russian and English match other forms of a word (Snowball stems), Polish matches by
the word's first letters (kb.ranking); kb.search_backend gives Wagtail's index the
PostgreSQL configuration per language (``russian``, ``english``, ``simple``)."""

import pytest
from django.core.cache import cache
from django.db import connection
from wagtail.models import Locale

from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="per-language text-search configurations exist on PostgreSQL only "
    "(run with DATABASE_URL=postgres://…)",
)


@pytest.fixture
def articles(db):
    cache.clear()
    kb = KnowledgeBasePage.objects.get(locale=Locale.get_default())
    category = CategoryPage(title="Tickets", slug="tickets")
    kb.add_child(instance=category)
    category.save_revision().publish()
    english = ArticlePage(
        title="Closing tickets",
        slug="closing-tickets",
        summary="How tickets are closed.",
        audience="public",
        body=[("paragraph", "<p>Agents close tickets when solved.</p>")],
    )
    category.add_child(instance=english)
    english.save_revision().publish()
    made = {"en": english}
    for code, title, text in (
        ("ru", "Закрытие заявок", "Оператор закрывает заявки после решения."),
        ("pl", "Zamykanie zgłoszeń", "Konsultant zamyka zgłoszenia po rozwiązaniu."),
    ):
        locale, _ = Locale.objects.get_or_create(language_code=code)
        page = english.copy_for_translation(locale, copy_parents=True).specific
        page.title = title
        page.summary = text
        page.body = [("paragraph", f"<p>{text}</p>")]
        page.save_revision().publish()
        made[code] = page
    yield made
    cache.clear()


def titles(client, prefix, query):
    html = client.get(f"{prefix}/kb/search/", {"q": query}).content.decode()
    return {
        t
        for t in ("Closing tickets", "Закрытие заявок", "Zamykanie zgłoszeń")
        if t in html
    }


@pytest.mark.django_db
def test_each_language_searches_its_own_articles_with_its_stemming(client, articles):
    # Russian stemming: the singular finds the plural "заявки"/"заявок"
    assert titles(client, "/ru", "заявка") == {"Закрытие заявок"}
    # English stemming: "closed" finds "close"/"closing"
    assert titles(client, "", "closed") == {"Closing tickets"}
    # Polish: no stemmer (and no stock PostgreSQL configuration); kb.ranking keys
    # Polish words by their first letters, so other forms of a word still match
    assert titles(client, "/pl", "zgłoszenia") == {"Zamykanie zgłoszeń"}
    assert titles(client, "/pl", "zgłoszenie") == {"Zamykanie zgłoszeń"}
    # the other languages' articles are not found
    assert titles(client, "/pl", "заявки") == set()
    assert titles(client, "/ru", "tickets") == set()
