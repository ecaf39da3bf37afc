"""Search over article bodies, with category filter, snippets, pagination and the
record of searches that found nothing."""

import pytest
from django.db import connection
from wagtail.contrib.search_promotions.models import Query

from kb import caching, queries
from kb.counters import flush_counters
from kb.highlight import highlight_snippet
from kb.models import UnansweredSearch


def test_a_word_only_in_the_body_finds_the_article(make_article, client):
    article = make_article(
        "Pausing uploads",
        summary="Stop Lumen for a while.",
        body=[("paragraph", "<p>Use the thermostat trick before a call.</p>")],
    )
    make_article("Unrelated", body=[("paragraph", "<p>Nothing here.</p>")])
    assert list(queries.search_articles(None, "thermostat")) == [article]
    response = client.get("/kb/search/", {"q": "thermostat"})
    [hit] = response.context["hits"]
    assert hit.article_id == article.pk
    assert "<mark>thermostat</mark>" in str(hit.snippet)


def test_search_stems_words_on_every_database(make_article):
    article = make_article(body=[("paragraph", "<p>Uploading resumes by itself.</p>")])
    assert list(queries.search_articles(None, "uploads")) == [article]


def test_a_question_finds_the_article_stop_words_ignored(make_article):
    deleted = make_article(
        "Recover deleted files", body=[("paragraph", "<p>Open the trash.</p>")]
    )
    versions = make_article(
        "Restore an earlier version", body=[("paragraph", "<p>Version history.</p>")]
    )
    make_article("Invite members", body=[("paragraph", "<p>Send invitations.</p>")])
    # every word of "restore deleted file" is in neither: the one with most words
    # (deleted, file) first, then the one with "restore", nothing for the rest
    found = list(queries.search_articles(None, "how do I restore a deleted file"))
    assert found == [deleted, versions]
    # all words first: "restore version" is in one article only
    assert list(queries.search_articles(None, "restore an old version")) == [versions]
    # typo tolerance from the knowledge base's own words
    assert list(queries.search_articles(None, "recovr delted")) == [deleted]
    # only stop words: nothing meaningful, but no error
    assert list(queries.search_articles(None, "how do I")) == []


def test_polish_questions_match_by_prefix(make_article):
    from django.utils import translation
    from wagtail.models import Locale

    polish = Locale.objects.create(language_code="pl")
    english = make_article(
        "Przywracanie wcześniejszej wersji pliku", body=[("paragraph", "<p>x</p>")]
    )
    article = english.copy_for_translation(polish, copy_parents=True)
    article.save_revision().publish()
    with translation.override("pl"):
        found = queries.search_articles(
            None, "jak przywrócić wersję pliku", locale=polish
        )
    assert [a.pk for a in found] == [article.pk]


def test_nothing_found_offers_the_closest_titles_and_support(make_article, client):
    article = make_article("Cancel your subscription", body=[("paragraph", "<p>x</p>")])
    assert queries.closest_articles(None, "cancel my subscription") == [article]
    assert queries.closest_articles(None, "qqqq") == []
    response = client.get("/kb/search/", {"q": "qqqq"})
    assert response.context["hits"] == []
    page = response.content.decode()
    assert "Nothing matched" in page
    assert 'href="/portal/tickets/new/"' in page
    assert 'aria-label="Breadcrumb"' in page
    assert '<li aria-current="page">Search</li>' in page


def test_category_filter_narrows_results(make_article, make_category, client):
    other = make_category("Billing")
    in_first = make_article("Walrus one", body=[("paragraph", "<p>walrus</p>")])
    make_article("Walrus two", parent=other, body=[("paragraph", "<p>walrus</p>")])
    assert list(
        queries.search_articles(None, "walrus", category=in_first.get_parent())
    ) == [in_first]
    response = client.get("/kb/search/", {"q": "walrus", "category": other.pk})
    assert [h.title for h in response.context["hits"]] == ["Walrus two"]


def test_search_paginates(make_article, client):
    for n in range(12):
        make_article(f"Heron {n}", body=[("paragraph", "<p>heron</p>")])
    first = client.get("/kb/search/", {"q": "heron"})
    second = client.get("/kb/search/", {"q": "heron", "page": 2})
    assert len(first.context["hits"]) == 10
    assert len(second.context["hits"]) == 2
    bad = client.get("/kb/search/", {"q": "heron", "page": "x"})
    assert bad.status_code == 200
    assert bad.context["page_obj"].number == 1


def test_searches_without_results_are_recorded(client, make_article):
    make_article(body=[("paragraph", "<p>penguin</p>")])
    client.get("/kb/search/", {"q": "Zebra crossing"})
    client.get("/kb/search/", {"q": "zebra crossing"})
    client.get("/kb/search/", {"q": "penguin"})
    assert not UnansweredSearch.objects.exists()  # counted in the cache first
    assert flush_counters() == {"views": 0, "searches": 3}
    assert flush_counters() == {"views": 0, "searches": 0}
    assert list(UnansweredSearch.objects.values_list("query_string", "hits")) == [
        ("zebra crossing", 2)
    ]
    assert Query.objects.get(query_string="penguin").hits == 1


def test_empty_or_bad_search_input_is_not_an_error(client, db):
    assert client.get("/kb/search/").status_code == 200
    response = client.get("/kb/search/", {"q": "x" * 1000, "category": "abc"})
    assert response.status_code == 200
    assert response.context["hits"] == []


def test_suggest_falls_back_to_autocomplete_for_a_half_typed_word(make_article, client):
    article = make_article("Conflicted copies explained")
    data = client.get("/kb/suggest/", {"q": "conflic"}).json()
    assert data == {
        "results": [
            {"title": article.title, "url": article.url, "summary": article.summary}
        ]
    }


def test_suggest_input_limits(client, make_article):
    make_article()
    assert client.get("/kb/suggest/", {"q": "a"}).json() == {"results": []}
    assert client.get("/kb/suggest/", {"q": "lumen", "limit": "x"}).status_code == 400
    assert (
        len(client.get("/kb/suggest/", {"q": "lumen", "limit": 500}).json()["results"])
        == 1
    )


def test_highlight_escapes_html_and_marks_prefix_matches():
    html = highlight_snippet("Syncing <b>files</b> & folders", "sync")
    assert html == "<mark>Syncing</mark> &lt;b&gt;files&lt;/b&gt; &amp; folders"


def test_search_page_runs_the_full_text_match_once(
    make_article, client, django_assert_num_queries
):
    for n in range(12):
        make_article(f"Heron {n}", body=[("paragraph", "<p>heron</p>")])
    client.get("/kb/search/", {"q": "heron"})  # site and locale lookups warm
    # view restrictions, ids of the visible articles (all matches ranked from the
    # in-process index), the page's articles, categories, KB index and its ancestors
    # for the breadcrumbs, site
    with django_assert_num_queries(7):
        response = client.get("/kb/search/", {"q": "heron", "page": 2})
    assert len(response.context["hits"]) == 2
    assert response.context["page_obj"].paginator.count == 12
    assert "12 results for" in response.content.decode()


def test_hits_page_like_the_search_results(make_article, make_category):
    other = make_category("Billing")
    for n in range(7):
        make_article(f"Kiwi {n}", body=[("paragraph", "<p>kiwi " * (n + 1) + "</p>")])
        make_article(f"Kiwi b{n}", parent=other, body=[("paragraph", "<p>kiwi</p>")])
    make_article("Kiwi agents", audience="agents", body=[("paragraph", "<p>kiwi</p>")])
    for category in (None, other):
        results = queries.search_articles(None, "kiwi", category=category)
        hits = queries.search_article_hits(None, "kiwi", category=category)
        assert hits.count() == len(hits) == results.count()
        for start in range(0, 16, 5):
            assert hits[start : start + 5] == list(results[start : start + 5])
        assert hits[0] == results[0]
    assert queries.search_article_hits(None, "  ").count() == 0
    assert queries.search_article_hits(None, "nothing-like-it")[0:10] == []


def test_search_skips_private_articles_and_categories(
    make_article, make_category, client
):
    from wagtail.models import PageViewRestriction

    hidden_category = make_category("Internal")
    shown = make_article("Quail open", body=[("paragraph", "<p>quail</p>")])
    private = make_article("Quail private", body=[("paragraph", "<p>quail</p>")])
    make_article(
        "Quail inside", parent=hidden_category, body=[("paragraph", "<p>quail</p>")]
    )
    PageViewRestriction.objects.create(page=private, restriction_type="login")
    PageViewRestriction.objects.create(page=hidden_category, restriction_type="login")
    response = client.get("/kb/search/", {"q": "quail"})
    assert [hit.article_id for hit in response.context["hits"]] == [shown.pk]
    assert hidden_category not in list(response.context["categories"])
    assert shown.get_parent().specific in list(response.context["categories"])
    narrowed = client.get("/kb/search/", {"q": "quail", "category": hidden_category.pk})
    assert narrowed.context["category"] is None


def test_active_locale_id_is_remembered_until_a_locale_changes(
    db, django_assert_num_queries
):
    from django.utils import translation
    from wagtail.models import Locale

    caching.invalidate()
    english = Locale.get_default()
    assert queries.active_locale_id() == english.pk
    with django_assert_num_queries(0):
        assert queries.active_locale_id() == english.pk
    with translation.override("pl"):  # no Polish locale: the default, like get_active
        assert queries.active_locale_id() == english.pk
        polish = Locale.objects.create(language_code="pl")
        assert queries.active_locale_id() == polish.pk


def test_article_text_follows_the_content(make_article):
    from kb.highlight import article_text

    article = make_article(
        summary="Walrus care.", body=[("paragraph", "<p>Feed the walrus.</p>")]
    )
    assert article_text(article) == article.search_text()
    assert article_text(article) == article.search_text()  # remembered: same text
    article.body = [("paragraph", "<p>Brush the walrus.</p>")]
    article.save()
    article.refresh_from_db()
    assert "Brush the walrus." in article_text(article)
    assert article_text(article) == article.search_text()
    article.summary = "Walrus grooming."
    assert article_text(article).startswith("Walrus grooming.")


@pytest.mark.django_db
def test_on_postgresql_the_search_expression_has_an_index():
    """Wagtail matches ``(title || body) @@ query``; migration kb 0003 indexes exactly
    that expression, so the planner can use it (checked with sequential scans off)."""

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL full-text search only")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM wagtailsearch_indexentry "
            "WHERE (title || body) @@ to_tsquery('password')"
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "kb_search_indexentry_title_body_gin" in plan


def test_with_a_shared_cache_a_repeated_search_reuses_its_matches_until_the_kb_changes(
    make_article, make_user, client, settings, django_assert_num_queries
):
    from django.test import Client

    settings.KB_PAGE_CACHE_SECONDS = 300  # as with Redis (one process here)
    make_article("Reset your password", summary="Forgot your password?")
    first = client.get("/kb/search/", {"q": "password"})
    assert [h.title for h in first.context["hits"]] == ["Reset your password"]
    # the page's articles only: the matches, breadcrumbs, categories, view
    # restrictions and site remembered until the KB changes (6 -> 4 -> 1)
    with django_assert_num_queries(1) as captured:
        again = client.get("/kb/search/", {"q": "password"})
    assert '"kb_articlepage"."page_ptr_id" IN' in captured.captured_queries[0]["sql"]
    assert [h.title for h in again.context["hits"]] == ["Reset your password"]
    # A new article is a new generation: the next search matches again.
    make_article("Password rules", summary="How long a password must be.")
    titles = sorted(
        h.title for h in client.get("/kb/search/", {"q": "password"}).context["hits"]
    )
    assert titles == ["Password rules", "Reset your password"]
    # Audiences are separate entries: an agents-only match found for an agent is not
    # shown to the anonymous reader who searches next.
    make_article("Password for staff", summary="password", audience="agents")
    staff = Client()
    staff.force_login(make_user("agent@example.com", groups=["Agents"]))

    def titles_for(reader):
        response = reader.get("/kb/search/", {"q": "password"})
        return sorted(h.title for h in response.context["hits"])

    assert titles_for(staff) == [
        "Password for staff",
        "Password rules",
        "Reset your password",
    ]
    assert titles_for(client) == ["Password rules", "Reset your password"]
    assert flush_counters()["searches"] == 5  # every search still counted


def test_snippets_keep_sentence_boundaries():
    text = (
        "Lumen is a sync service. " * 8
        + "Deleted files stay in the trash for thirty days. You can restore them. "
        + "Unrelated words follow here. " * 12
    )
    snippet = str(highlight_snippet(text, "trash"))
    assert snippet.startswith("… Deleted files stay in the <mark>trash</mark>")
    assert snippet.endswith(". …")  # ends after a full stop, not mid-sentence


def test_with_a_shared_cache_the_search_breadcrumbs_follow_a_renamed_index(
    make_article, client, settings
):
    from kb.models import KnowledgeBasePage

    settings.KB_PAGE_CACHE_SECONDS = 300  # as with Redis (one process here)
    make_article("Reset your password")
    client.get("/kb/search/", {"q": "password"})
    index = KnowledgeBasePage.objects.live().first()
    index.title = "Help centre"
    index.save_revision().publish()
    crumbs = client.get("/kb/search/", {"q": "password"}).context["crumbs"]
    assert [page.title for page in crumbs][-1] == "Help centre"


def test_with_a_shared_cache_a_new_view_restriction_hides_articles_and_categories(
    make_article, make_category, client, settings
):
    """The remembered restrictions, categories and matches are of one generation: a
    restriction saved hides its pages from the next search; deleted, shows them again."""
    from wagtail.models import PageViewRestriction

    settings.KB_PAGE_CACHE_SECONDS = 300  # as with Redis (one process here)
    billing = make_category("Billing")
    shown = make_article("Plover open", body=[("paragraph", "<p>plover</p>")])
    inside = make_article(
        "Plover billing", parent=billing, body=[("paragraph", "<p>plover</p>")]
    )

    def search():
        response = client.get("/kb/search/", {"q": "plover"})
        hits = sorted(hit.title for hit in response.context["hits"])
        return hits, [c.title for c in response.context["categories"]]

    assert search() == (
        ["Plover billing", "Plover open"],
        [shown.get_parent().title, "Billing"],
    )
    search()  # remembered
    restriction = PageViewRestriction.objects.create(
        page=billing, restriction_type="login"
    )
    assert search() == (["Plover open"], [shown.get_parent().title])
    restriction.delete()
    assert search() == (
        ["Plover billing", "Plover open"],
        [shown.get_parent().title, "Billing"],
    )
    assert inside.live


def test_with_a_shared_cache_the_search_keeps_the_site_until_a_site_changes(
    make_article, client, settings, django_assert_num_queries
):
    from django.test.utils import CaptureQueriesContext
    from wagtail.models import Site

    settings.KB_PAGE_CACHE_SECONDS = 300  # as with Redis (one process here)
    article = make_article("Reset your password")
    first = client.get("/kb/search/", {"q": "password"})
    assert first.wsgi_request._wagtail_site == Site.objects.get(is_default_site=True)
    assert f'href="{article.url}"' in first.content.decode()
    site = Site.objects.get(is_default_site=True)
    site.site_name = "Help"
    site.save()
    # a site saved is a new generation: everything is read again, the site too (its
    # lookup, and Wagtail's site root paths, which the save emptied)
    with CaptureQueriesContext(connection) as captured:
        again = client.get("/kb/search/", {"q": "password"})
    sites = [q for q in captured.captured_queries if '"wagtailcore_site"' in q["sql"]]
    assert len(sites) == 2
    with django_assert_num_queries(1):
        third = client.get("/kb/search/", {"q": "password"})
    assert third.wsgi_request._wagtail_site.site_name == "Help"
    assert f'href="{article.url}"' in third.content.decode()
    assert again.wsgi_request._wagtail_site.site_name == "Help"


def test_without_a_shared_cache_the_search_reads_restrictions_and_site_each_time(
    make_article, client, settings, django_assert_num_queries
):
    settings.KB_PAGE_CACHE_SECONDS = 0  # a per-process cache: nothing is remembered
    make_article("Reset your password")
    client.get("/kb/search/", {"q": "password"})
    # view restrictions, visible articles' ids, the page's articles, categories, KB
    # index and its ancestors, site
    with django_assert_num_queries(7):
        client.get("/kb/search/", {"q": "password"})
