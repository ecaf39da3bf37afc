"""Anonymous KB pages from the shared cache (kb.page_cache): never stale after a
change, never another visitor's view, never a shared CSRF token."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from wagtail.models import PageViewRestriction

from kb.counters import flush_counters
from kb.models import ArticleFeedback
from kb.page_cache import CSRF_PLACEHOLDER

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    # The tests run in one process, so the local-memory cache behaves as a shared one.
    settings.KB_PAGE_CACHE_SECONDS = 300


def _token(response) -> str:
    return TOKEN.search(response.content.decode()).group(1)


def test_second_anonymous_read_costs_no_query_and_still_counts_the_view(
    make_article, client, django_assert_num_queries
):
    article = make_article("Sync otters")
    first = client.get(article.url)
    with django_assert_num_queries(0):
        second = Client().get(article.url)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>Sync otters</h1>" in second.content.decode()
    assert TOKEN.sub("", first.content.decode()) == TOKEN.sub(
        "", second.content.decode()
    )
    assert flush_counters()["views"] == 2


def test_each_reader_gets_a_token_of_their_own_and_the_form_works(make_article, client):
    article = make_article()
    client.get(article.url)  # stored
    reader = Client(enforce_csrf_checks=True)
    cached = reader.get(article.url)
    html = cached.content.decode()
    assert CSRF_PLACEHOLDER not in html
    assert "csrftoken" in cached.cookies
    assert _token(cached) != _token(Client().get(article.url))
    response = reader.post(
        reverse("kb:feedback", args=[article.pk]),
        {"helpful": "yes", "csrfmiddlewaretoken": _token(cached)},
    )
    assert response.status_code == 302
    assert ArticleFeedback.objects.get(article=article).helpful is True
    # Without a token the same post is refused (the cache did not switch CSRF off).
    refused = Client(enforce_csrf_checks=True).post(
        reverse("kb:feedback", args=[article.pk]), {"helpful": "no"}
    )
    assert refused.status_code == 403
    assert ArticleFeedback.objects.count() == 1


def test_a_reader_with_a_session_is_never_served_from_the_cache(
    make_article, client, django_assert_max_num_queries
):
    article = make_article()
    Client().get(article.url)
    response = client.post(
        reverse("kb:feedback", args=[article.pk]), {"helpful": "no"}, follow=True
    )
    assert "Thank you for your feedback." in response.content.decode()
    assert client.cookies.get("sessionid")
    again = client.get(article.url)
    assert "Thank you for your feedback." not in again.content.decode()  # shown once


def test_signed_in_users_get_their_own_page(make_article, make_user, client):
    article = make_article()
    anonymous_html = Client().get(article.url).content.decode()
    assert "Sign in" in anonymous_html
    client.force_login(make_user("alice@example.com", groups=["Customers"]))
    html = client.get(article.url).content.decode()
    assert "Sign out" in html and "Sign in" not in html
    # ...and what they saw is not what the next anonymous reader gets.
    assert "Sign out" not in Client().get(article.url).content.decode()


def test_articles_for_customers_are_never_stored(make_article, make_user, client):
    article = make_article(audience="customers")
    client.force_login(make_user("alice@example.com", groups=["Customers"]))
    assert client.get(article.url).status_code == 200
    assert Client().get(article.url).status_code == 404
    assert Client().get(article.url).status_code == 404


def test_publishing_a_change_is_seen_at_once(make_article):
    article = make_article("Old title")
    assert "<h1>Old title</h1>" in Client().get(article.url).content.decode()
    article.title = "New title"
    article.save_revision().publish()
    assert "<h1>New title</h1>" in Client().get(article.url).content.decode()


def test_unpublishing_or_restricting_a_page_is_seen_at_once(make_article):
    article = make_article()
    other = make_article()
    assert Client().get(article.url).status_code == 200
    assert Client().get(other.url).status_code == 200
    article.unpublish()
    assert Client().get(article.url).status_code == 404
    PageViewRestriction.objects.create(
        page=other, restriction_type=PageViewRestriction.LOGIN
    )
    response = Client().get(other.url)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_deleting_an_article_removes_it_from_the_category_listing(
    make_article, category
):
    article = make_article("Walrus tips")
    assert "Walrus tips" in Client().get(category.url).content.decode()
    article.delete()
    assert "Walrus tips" not in Client().get(category.url).content.decode()


def test_languages_are_stored_apart(make_article):
    article = make_article()
    # Polish lives under /pl/ (an untranslated article falls back to English there)
    polish = Client().get("/pl" + article.url).content.decode()
    english = Client().get(article.url).content.decode()
    assert '<html lang="pl"' in polish
    assert '<html lang="en"' in english


def test_query_strings_are_not_stored(
    make_article, category, django_assert_max_num_queries
):
    make_article()
    Client().get(category.url + "?page=1")
    with django_assert_max_num_queries(20) as captured:
        Client().get(category.url + "?page=1")
    assert len(captured) > 0


def test_off_without_a_shared_cache(make_article, settings):
    settings.KB_PAGE_CACHE_SECONDS = None  # the tests' cache is local memory
    article = make_article()
    Client().get(article.url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert Client().get(article.url).status_code == 200
    assert len(captured) > 0


def test_a_change_in_another_process_is_seen_once_the_generation_is_read_again(
    make_article, settings
):
    import time

    from django.core.cache import cache

    from kb import caching

    article = make_article("Old title")
    assert "<h1>Old title</h1>" in Client().get(article.url).content.decode()
    # Another process publishes: it renders the page and moves the shared generation;
    # this process's copy of the generation is still fresh.
    ArticlePage = type(article)
    ArticlePage.objects.filter(pk=article.pk).update(title="New title")
    cache.set(caching.GENERATION_KEY, time.time_ns(), None)
    settings.KB_PAGE_CACHE_CHECK_SECONDS = 60
    assert "<h1>Old title</h1>" in Client().get(article.url).content.decode()
    settings.KB_PAGE_CACHE_CHECK_SECONDS = 0  # the copy is now too old: read again
    assert "<h1>New title</h1>" in Client().get(article.url).content.decode()


def test_a_hit_costs_no_cache_round_trip(make_article, monkeypatch):
    from django.core.cache import cache

    article = make_article()
    Client().get(article.url)
    calls = []
    for name in ("get", "get_many", "set", "add", "incr"):
        real = getattr(cache, name)
        monkeypatch.setattr(
            cache,
            name,
            lambda *a, _name=name, _real=real, **k: (
                calls.append(_name) or _real(*a, **k)
            ),
        )
    assert Client().get(article.url).status_code == 200
    assert calls == []
