"""What a signed-in reader's article page shares with every reader (``{% kb_fragment
%}`` and the related articles, ``kb.caching.fragment``; its route, ``kb.caching.route``):
read once per revision and language, never stale after a publish, never another
audience's, never a preview's; view restrictions still applied to each reader."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from wagtail.models import PageViewRestriction, Site

from kb import caching
from kb.models import ArticleDailyViews

BODY = "<p>Lumen keeps your team's files in sync.</p>"


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    # The tests run in one process, so the local-memory cache behaves as a shared one.
    settings.KB_PAGE_CACHE_SECONDS = 300


@pytest.fixture
def customer(make_user):
    return make_user("alice@example.com", groups=["Customers"])


@pytest.fixture
def articles(make_article, make_category):
    other = make_category("Billing")
    made = [
        make_article(
            f"Otter {n}", tags=["sync", "otters"], parent=None if n % 2 else other
        )
        for n in range(12)
    ]
    made[0].related_links.create(article=made[1])
    return made


def test_signed_in_article_costs_a_fixed_number_of_queries(
    articles, customer, client, django_assert_num_queries
):
    client.force_login(customer)
    client.get(articles[0].url)  # fills the fragments, as the first reader does
    # the reader's own: session (the test settings keep it in the database; a
    # cached_db session read from Redis costs none), the user with their roles
    # (their audience: accounts.session_user).
    # The route (site, locale, one read per path segment, view restrictions), the
    # head, the language versions and the related links are kept (kb.caching).
    with django_assert_num_queries(2):
        response = client.get(articles[0].url)
    assert response.status_code == 200
    html = response.content.decode()
    assert BODY in html
    assert '<span class="badge">sync</span>' in html
    url = f"http://testserver{articles[0].url}"
    assert f'<link rel="canonical" href="{url}">' in html
    assert f'<link rel="alternate" hreflang="en" href="{url}">' in html
    assert '<meta property="og:locale" content="en">' in html
    assert f'<a href="{articles[1].url}">{articles[1].title}</a>' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert [a.pk for a in response.context["related_articles"]][0] == articles[1].pk
    assert len(response.context["related_articles"]) == 5


def test_a_published_change_is_read_at_once(articles, customer, client):
    client.force_login(customer)
    article = articles[0]
    assert BODY in client.get(article.url).content.decode()
    article.body = [("paragraph", "<p>Seals now.</p>")]
    article.tags.set(["seals"])
    article.save_revision().publish()
    html = client.get(article.url).content.decode()
    assert "<p>Seals now.</p>" in html and BODY not in html
    assert '<span class="badge">seals</span>' in html
    assert '<span class="badge">sync</span>' not in html


def test_related_articles_follow_the_readers_audience(
    make_article, customer, make_user, client
):
    article = make_article("Seal basics", tags=["seals"])
    secret = make_article("Seal internals", tags=["seals"], audience="agents")
    client.force_login(make_user("agent@example.com", groups=["Agents"]))
    assert secret in client.get(article.url).context["related_articles"]
    client.force_login(customer)
    response = client.get(article.url)
    assert secret not in response.context["related_articles"]
    assert "Seal internals" not in response.content.decode()
    assert "Seal internals" not in Client().get(article.url).content.decode()


def test_a_preview_is_never_served_from_or_stored_in_the_fragments(
    articles, customer, client, make_user
):
    article = articles[0]
    client.force_login(customer)
    client.get(article.url)  # the live body is a fragment now
    article.body = [("paragraph", "<p>Draft only.</p>")]
    preview = article.make_preview_request(original_request=None)
    if hasattr(preview, "render") and not preview.is_rendered:
        preview.render()
    assert b"<p>Draft only.</p>" in preview.content
    html = client.get(article.url).content.decode()
    assert BODY in html and "Draft only." not in html


def test_fragments_are_off_with_the_page_cache(articles, customer, client, settings):
    settings.KB_PAGE_CACHE_SECONDS = 0
    caching.fragments.clear()
    client.force_login(customer)
    client.get(articles[0].url)
    assert len(caching.fragments.entries) == 0


def test_a_kept_route_still_applies_view_restrictions_to_each_reader(
    articles, customer, make_user, client
):
    article = articles[0]
    insider = make_user("insider@example.com", groups=["Customers"])
    insiders = Group.objects.create(name="Otter insiders")
    insider.groups.add(insiders)
    client.force_login(customer)
    assert client.get(article.url).status_code == 200  # its route is kept now
    restriction = PageViewRestriction.objects.create(
        page=article.get_parent(), restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(insiders)
    for _ in range(2):  # the first read keeps the route again, the second uses it
        denied = client.get(article.url)
        assert denied.status_code == 302
        assert "login" in denied["Location"]
        assert BODY not in denied.content.decode()
    twin = Client()
    twin.force_login(insider)
    for _ in range(2):
        allowed = twin.get(article.url)
        assert allowed.status_code == 200
        assert BODY in allowed.content.decode()
    assert Client().get(article.url).status_code == 302


def test_an_audience_the_reader_is_not_in_stays_hidden_on_a_kept_route(
    make_article, customer, make_user, client
):
    secret = make_article("Seal internals", audience="agents")
    agent = Client()
    agent.force_login(make_user("agent@example.com", groups=["Agents"]))
    assert agent.get(secret.url).status_code == 200  # its route is kept now
    client.force_login(customer)
    assert client.get(secret.url).status_code == 404
    assert client.get(secret.url).status_code == 404


def test_each_read_on_a_kept_route_counts_a_view(articles, customer, client):
    from kb.counters import flush_counters

    client.force_login(customer)
    for _ in range(3):
        assert client.get(articles[0].url).status_code == 200
    flush_counters()
    views = ArticleDailyViews.objects.get(article=articles[0])
    assert views.views == 3


def test_an_unpublished_or_moved_article_is_not_served_from_a_kept_route(
    articles, customer, client, make_category
):
    client.force_login(customer)
    moved, gone = articles[0], articles[2]
    old_url = moved.url
    assert client.get(old_url).status_code == 200
    assert client.get(gone.url).status_code == 200
    gone.unpublish()
    assert client.get(gone.url).status_code == 404
    moved.move(make_category("Seals"), pos="last-child")
    moved.refresh_from_db()
    left = client.get(old_url)  # Wagtail's redirect, made when a page moves
    assert (left.status_code, left["Location"]) == (301, moved.url)
    assert client.get(moved.url).status_code == 200


def test_a_changed_site_is_read_again(articles, customer, client):
    client.force_login(customer)
    assert client.get(articles[0].url).status_code == 200
    site = Site.objects.get(is_default_site=True)
    site.site_name = "Otter help"
    site.save()
    assert caching.routes.entries == {}


def test_the_language_fallback_note_shows_on_a_kept_route(articles, customer, client):
    client.force_login(customer)
    for _ in range(2):
        html = client.get("/pl" + articles[0].url).content.decode()
        assert 'class="notice language-fallback"' in html
        assert BODY in html
