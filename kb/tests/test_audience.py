"""Audience is enforced on the page, listings, search, suggestions and the sitemap."""

import pytest

from kb.permissions import allowed_audiences, can_view_article, visible_articles

ROLES = {
    "anonymous": None,
    "customer": ["Customers"],
    "agent": ["Agents"],
    "editor": ["Editors"],
}
# role -> the audiences it may read
EXPECTED = {
    "anonymous": {"public"},
    "customer": {"public", "customers"},
    "agent": {"public", "customers", "agents"},
    "editor": {"public", "customers", "agents"},
}


@pytest.fixture
def articles(make_article):
    body = [("paragraph", "<p>The quokka procedure for Lumen.</p>")]
    return {
        audience: make_article(f"Quokka {audience}", audience=audience, body=body)
        for audience in ("public", "customers", "agents")
    }


@pytest.fixture
def login(client, make_user):
    def _login(role):
        if ROLES[role] is None:
            return None
        user = make_user(f"{role}@example.com", groups=ROLES[role])
        client.force_login(user)
        return user

    return _login


@pytest.mark.parametrize("role", ROLES)
def test_article_page_is_404_for_audiences_the_reader_may_not_see(
    role, client, login, articles
):
    login(role)
    for audience, article in articles.items():
        expected = 200 if audience in EXPECTED[role] else 404
        assert client.get(article.url).status_code == expected, audience


@pytest.mark.parametrize("role", ROLES)
def test_category_listing_shows_only_visible_articles(
    role, client, login, articles, category
):
    login(role)
    html = client.get(category.url).content.decode()
    shown = {a for a, article in articles.items() if article.title in html}
    assert shown == EXPECTED[role]


@pytest.mark.parametrize("role", ROLES)
def test_index_counts_only_visible_articles(role, client, login, articles):
    login(role)
    response = client.get("/kb/")
    [category] = response.context["categories"]
    assert category.article_count == len(EXPECTED[role])


@pytest.mark.parametrize("role", ROLES)
def test_search_finds_only_visible_articles(role, client, login, articles):
    login(role)
    response = client.get("/kb/search/", {"q": "quokka"})
    ids = {hit.article_id for hit in response.context["hits"]}
    found = {audience for audience, article in articles.items() if article.pk in ids}
    assert found == EXPECTED[role]
    assert len(ids) == len(found)  # nothing else found


@pytest.mark.parametrize("role", ROLES)
def test_suggestions_return_only_visible_articles(role, client, login, articles):
    login(role)
    response = client.get("/kb/suggest/", {"q": "quokka procedure"})
    titles = {item["title"] for item in response.json()["results"]}
    assert titles == {f"Quokka {a}" for a in EXPECTED[role]}


@pytest.mark.parametrize("role", ROLES)
def test_sitemap_lists_public_articles_only(role, client, login, articles):
    login(role)
    xml = client.get("/sitemap.xml").content.decode()
    assert articles["public"].url in xml
    assert articles["customers"].url not in xml
    assert articles["agents"].url not in xml


def test_policy_functions_agree(make_user, articles):
    customer = make_user("c@example.com", groups=["Customers"])
    assert allowed_audiences(None) == ("public",)
    assert set(visible_articles(customer).values_list("audience", flat=True)) == {
        "public",
        "customers",
    }
    assert can_view_article(customer, articles["customers"]) is True
    assert can_view_article(customer, articles["agents"]) is False


def test_unpublished_articles_are_hidden_from_staff_too(
    make_article, make_user, client
):
    draft = make_article("Quokka draft", publish=False)
    agent = make_user("a@example.com", groups=["Agents"])
    assert can_view_article(agent, draft) is False
    assert draft not in visible_articles(agent)


def test_private_page_is_not_listed(articles, category, client):
    from wagtail.models import PageViewRestriction

    PageViewRestriction.objects.create(
        page=articles["public"], restriction_type="login"
    )
    html = client.get(category.url).content.decode()
    assert articles["public"].title not in html
    assert can_view_article(None, articles["public"]) is False
