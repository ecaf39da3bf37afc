"""Pages render in a fixed number of queries, and views are counted off the page row."""

import pytest
from django.urls import reverse

from kb.counters import flush_counters, record_article_view
from kb.models import ArticleDailyViews, ArticleFeedback


@pytest.fixture
def many_articles(make_article, make_category):
    other = make_category("Billing")
    articles = [
        make_article(
            f"Otter {n}", tags=["sync", "otters"], parent=None if n % 2 else other
        )
        for n in range(12)
    ]
    articles[0].related_links.create(article=articles[1])
    return articles


@pytest.mark.parametrize("count", [2, 12])
def test_index_renders_in_fixed_queries(
    count, make_article, client, django_assert_max_num_queries
):
    for n in range(count):
        make_article(f"Seal {n}", tags=["sync"])
    client.get("/kb/")  # warm Wagtail's site-root cache, as on a running server
    # 15: one for the page's language versions (hreflang alternates)
    with django_assert_max_num_queries(15):
        assert client.get("/kb/").status_code == 200


@pytest.mark.parametrize("count", [2, 12])
def test_category_renders_in_fixed_queries(
    count, make_article, category, client, django_assert_max_num_queries
):
    for n in range(count):
        make_article(f"Seal {n}", tags=["sync"])
    client.get(category.url)
    # 15: one for the page's language versions (hreflang alternates)
    with django_assert_max_num_queries(15):
        assert client.get(category.url).status_code == 200


def test_article_renders_in_fixed_queries(
    many_articles, client, make_user, django_assert_max_num_queries
):
    client.force_login(make_user("agent@example.com", groups=["Agents"]))
    client.get(many_articles[0].url)
    # Agents have Wagtail admin access (the desk), so the page also renders Wagtail's
    # userbar for them (permissions, profile, workflow state): constant, not per article.
    with django_assert_max_num_queries(30):
        response = client.get(many_articles[0].url)
    assert response.status_code == 200
    related = response.context["related_articles"]
    assert related[0] == many_articles[1]
    assert len(related) == 5


def test_article_view_is_counted_per_day(make_article, client):
    article = make_article()
    client.get(article.url)
    client.get(article.url)
    assert not ArticleDailyViews.objects.exists()  # counted in the cache first
    assert flush_counters() == {"views": 2, "searches": 0}
    assert list(ArticleDailyViews.objects.values_list("article_id", "views")) == [
        (article.pk, 2)
    ]
    client.get(article.url)
    assert flush_counters() == {"views": 1, "searches": 0}
    assert flush_counters() == {"views": 0, "searches": 0}  # twice: nothing more
    assert ArticleDailyViews.objects.get().views == 3


def test_counting_a_view_does_not_write_the_page_row(
    make_article, django_assert_num_queries
):
    article = make_article()
    record_article_view(article)
    with django_assert_num_queries(0):  # no database write on the request path
        record_article_view(article)
    # article ids; update; savepoint, insert, release
    with django_assert_num_queries(5) as captured:
        flush_counters()
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert "kb_articledailyviews" in sql
    assert "wagtailcore_page" not in sql.split("kb_articledailyviews", 1)[1]
    assert ArticleDailyViews.objects.get().views == 2


def test_denied_article_counts_no_view(make_article, client):
    article = make_article(audience="agents")
    assert client.get(article.url).status_code == 404
    assert ArticleDailyViews.objects.count() == 0


def test_article_page_shows_toc_seo_and_feedback_form(make_article, client):
    article = make_article(
        summary="Resolve two edits.",
        body=[
            ("heading", {"text": "Why it happens", "level": "h2"}),
            ("paragraph", "<p>Offline edits.</p>"),
            ("heading", {"text": "Fixing it", "level": "h2"}),
        ],
    )
    html = client.get(article.url).content.decode()
    assert '<a href="#why-it-happens">Why it happens</a>' in html
    assert '<h2 id="fixing-it">Fixing it</h2>' in html
    assert '<meta name="description" content="Resolve two edits.">' in html
    assert f'<link rel="canonical" href="http://testserver{article.url}">' in html
    assert '<meta property="og:title" content="' + article.title + '">' in html
    assert "Last updated" in html
    assert f'action="{reverse("kb:feedback", args=[article.pk])}"' in html


def test_helpfulness_report_for_editors_only(make_article, make_user, client):
    article = make_article("Penguins")
    ArticleFeedback.objects.create(article=article, session_key="a", helpful=False)
    ArticleFeedback.objects.create(article=article, session_key="b", helpful=True)
    url = reverse("kb_helpfulness_report")
    client.force_login(make_user("agent@example.com", groups=["Agents"], is_staff=True))
    assert client.get(url).status_code in (302, 403)
    client.force_login(make_user("editor@example.com", groups=["Editors"]))
    response = client.get(url)
    assert response.status_code == 200
    [row] = response.context["object_list"]
    assert (row.title, row.helpful_votes, row.unhelpful_votes, row.helpful_percent) == (
        "Penguins",
        1,
        1,
        50,
    )
    assert client.get(reverse("kb_unanswered_searches_report")).status_code == 200


def test_without_a_shared_cache_views_and_searches_are_written_directly(
    make_article, client, settings
):
    from wagtail.contrib.search_promotions.models import Query

    from kb.counters import counting_in_cache
    from kb.models import UnansweredSearch

    del settings.KB_COUNT_IN_CACHE
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    assert not counting_in_cache()  # the job worker could not see these counters
    article = make_article()
    client.get(article.url)
    client.get("/kb/search/", {"q": "Zebra"})
    assert ArticleDailyViews.objects.get().views == 1
    assert Query.objects.get(query_string="zebra").hits == 1
    assert list(UnansweredSearch.objects.values_list("query_string", "hits")) == [
        ("zebra", 1)
    ]
    assert flush_counters() == {"views": 0, "searches": 0}
    settings.KB_COUNT_IN_CACHE = True
    assert counting_in_cache()


def test_views_are_buffered_in_the_process_then_added_once_per_article(
    make_article, monkeypatch
):
    from django.core.cache import cache

    from kb import counters

    article = make_article()
    # However slow the machine, the five views below fall in one tally period.
    monkeypatch.setattr(counters.tally, "seconds", 3600)
    counters.flush_view_buffer()
    calls = []
    real_incr = cache.incr
    monkeypatch.setattr(
        cache,
        "incr",
        lambda key, delta=1, **kw: calls.append(delta) or real_incr(key, delta, **kw),
    )
    for _ in range(5):
        record_article_view(article)
    assert calls == []  # nothing reached the shared cache yet
    monkeypatch.setattr(counters.tally, "seconds", 0)
    record_article_view(article)  # the buffer is due: six views in one increment
    assert calls == [6]
    assert flush_counters() == {"views": 6, "searches": 0}
    assert ArticleDailyViews.objects.get(article=article).views == 6
