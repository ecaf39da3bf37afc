"""What a signed-in reader's article page shares with every reader (``{% kb_fragment
%}`` and the related articles, ``kb.caching.fragment``): read once per revision and
language, never stale after a publish, never another audience's, never a preview's."""

import pytest
from django.test import Client

from kb import caching

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
    # session, user, roles, routing (site, page, specific), view restrictions, the
    # reader's audience check, the language versions (hreflang)
    with django_assert_num_queries(16):
        response = client.get(articles[0].url)
    assert response.status_code == 200
    html = response.content.decode()
    assert BODY in html
    assert '<span class="badge">sync</span>' in html
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
