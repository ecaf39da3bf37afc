"""Every kb cache follows one rule (kb.caching): publishing, unpublishing, moving or
deleting an article empties all of them in one step, and readers see the change."""

import pytest
from django.core.cache import cache
from django.test import Client

from kb import caching, queries
from kb.counters import flush_counters, record_article_view


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    # The tests run in one process, so the local-memory cache behaves as a shared one.
    settings.KB_PAGE_CACHE_SECONDS = 300
    caching.invalidate()


def _publish_a_new_title(article, other):
    article.title = "Walrus care"
    article.save_revision().publish()


def _unpublish(article, other):
    article.unpublish()


def _move(article, other):
    article.move(other, pos="last-child")


def _delete(article, other):
    article.delete()


# change → (title on the old address or None for 404, search "otter" / "walrus",
#           the KB index's popular articles)
CHANGES = {
    "publish": (_publish_a_new_title, "Walrus care", [], ["Walrus care"]),
    "unpublish": (_unpublish, None, [], []),
    "move": (_move, None, ["Otter care"], ["Otter care"]),
    "delete": (_delete, None, [], []),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_to_an_article_empties_every_kb_cache_at_once(
    change, make_article, make_category, kb_index
):
    act, title_after, otter_after, popular_after = CHANGES[change]
    other = make_category("Other topics")
    article = make_article("Otter care", summary="How to feed them.")
    record_article_view(article)
    assert flush_counters()["views"] == 1
    # Every cache holds the article: both pages stored, the search remembered, the
    # locale and its language known, the article indexed.
    assert Client().get(kb_index.url).status_code == 200
    assert Client().get(article.url).status_code == 200
    index_page = Client().get(kb_index.url)
    assert index_page.context is None  # answered from the page cache: nothing rendered
    found = queries.search_article_hits(None, "otter")
    assert found.ids == [article.pk]
    assert [a.title for a in queries.popular_articles(None)] == ["Otter care"]
    assert len(caching.pages.entries) == 2
    assert len(caching.matches.entries) == 1
    assert caching.locale_ids != {}
    assert caching.locale_languages != {}
    index = caching.search_indexes[article.locale_id]
    assert article.pk in index.stamps
    generation = cache.get(caching.GENERATION_KEY)
    old_url = article.url

    act(article, other)

    assert cache.get(caching.GENERATION_KEY) != generation
    assert caching.pages.entries == {}
    assert caching.matches.entries == {}
    assert caching.locale_ids == {}
    assert caching.locale_languages == {}
    assert article.pk not in index.stamps
    # What readers see next, from freshly rendered pages and a fresh search.
    page = Client().get(old_url)
    if change == "move":  # Wagtail leaves a redirect to the new address
        assert (page.status_code, page["Location"]) == (301, f"{other.url}otter-care/")
    elif title_after is None:
        assert page.status_code == 404
    else:
        assert f"<h1>{title_after}</h1>" in page.content.decode()
    assert [a.title for a in queries.search_articles(None, "otter")] == otter_after
    walrus = [a.title for a in queries.search_articles(None, "walrus")]
    assert walrus == (["Walrus care"] if change == "publish" else [])
    home = Client().get(kb_index.url)
    assert [a.title for a in home.context["popular_articles"]] == popular_after
    if change == "move":
        moved = type(article).objects.get(pk=article.pk)
        assert moved.url == f"{other.url}otter-care/"
        assert "<h1>Otter care</h1>" in Client().get(moved.url).content.decode()


def test_saving_a_locale_empties_the_locale_caches(db):
    from wagtail.models import Locale

    queries.active_locale_id()
    assert caching.locale_ids != {}
    generation = cache.get(caching.GENERATION_KEY)
    Locale.objects.create(language_code="pl")
    assert caching.locale_ids == {}
    assert cache.get(caching.GENERATION_KEY) != generation
