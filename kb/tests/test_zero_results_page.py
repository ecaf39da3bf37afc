"""A search nothing answers still helps: the page lists the closest articles by title
and offers to contact support; breadcrumbs lead back like every other KB page."""

import re


def test_zero_results_page_lists_the_closest_articles_and_support(make_article, client):
    article = make_article(
        "Cancel your subscription", body=[("paragraph", "<p>Billing page.</p>")]
    )
    make_article("Export your invoices", body=[("paragraph", "<p>PDF.</p>")])
    response = client.get("/kb/search/", {"q": "subscripzzzz"})
    assert response.status_code == 200
    assert response.context["hits"] == []
    page = response.content.decode()
    assert "0 results for" in page
    assert 'href="/portal/tickets/new/">contact support</a>' in page
    closest = re.search(r'<ul class="kb-closest">(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', closest)[0] == (
        article.url,
        "Cancel your subscription",
    )
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', page, re.S).group()
    assert re.findall(
        r"<li>(.*?)</li>|<li aria-current=\"page\">(.*?)</li>", crumbs
    ) == [
        ('<a href="/">Help centre</a>', ""),
        ('<a href="/kb/">Knowledge base</a>', ""),
        ("", "Search"),
    ]


def test_a_query_with_results_shows_no_closest_list(make_article, client):
    make_article("Cancel your subscription", body=[("paragraph", "<p>x</p>")])
    page = client.get("/kb/search/", {"q": "cancel subscription"}).content.decode()
    assert "Cancel your subscription" in page
    assert "kb-closest" not in page
    assert "Nothing matched" not in page
    assert '<li aria-current="page">Search</li>' in page
