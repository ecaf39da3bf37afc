"""The search page's results read as rows (``ArticleHits.rows``: a statement kept per
generation, locale, category and audience set while the page cache is on) against
the slices of the same search: the same articles, texts and links; what a reader may
not see is never read for them, whatever ids are asked; a publish, unpublish, move
or view restriction shows at the next search; ``{% search_results %}`` writes the
template's former loop; the breadcrumbs and language alternates kept as page
fragments are the rendered ones."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.utils.safestring import mark_safe
from wagtail.models import PageViewRestriction

from kb import caching, queries
from kb.highlight import stored_article_text
from kb.models import ArticlePage
from kb.views import SearchHit

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[300, 0], ids=["page-cache-on", "page-cache-off"])
def seconds(request, settings):
    settings.KB_PAGE_CACHE_SECONDS = request.param
    caching.invalidate()
    return request.param


def _body(word):
    return [("paragraph", f"<p>All about the {word}.</p>")]


def test_rows_are_the_slices_articles(make_article, make_category, seconds):
    other = make_category("Billing")
    for n in range(7):
        make_article(f"Kiwi {n}", body=_body("kiwi " * (n + 1)), summary=f"K{n} <&>")
        make_article(f"Kiwi b{n}", parent=other, body=_body("kiwi"))
    make_article("Kiwi agents", audience="agents", body=_body("kiwi"))
    for category in (None, other):
        for _turn in (1, 2):  # the second from the kept statement (cache on)
            hits = queries.search_article_hits(None, "kiwi", category=category)
            assert len(hits.ids) == (14 if category is None else 7)
            for start in range(0, 16, 5):
                rows = hits.rows(hits.ids[start : start + 5])
                articles = hits[start : start + 5]
                assert [row.pk for row in rows] == [a.pk for a in articles]
                for row, article in zip(rows, articles, strict=True):
                    assert (row.title, row.url_path, row.locale_id, row.summary) == (
                        article.title,
                        article.url_path,
                        article.locale_id,
                        article.summary,
                    )
                    made = row.article()
                    assert made == article and made.url == article.url
                    assert made.search_text() == article.search_text()
                    text = stored_article_text(
                        row.pk, row.summary, row.body, row.article
                    )
                    assert text == article.search_text()
                    known = stored_article_text(row.pk, row.summary, row.body, None)
                    assert known == text  # known: not made again


def test_the_stored_text_follows_the_content(make_article):
    article = make_article("Walrus", summary="Walrus care.", body=_body("walrus"))

    def text():
        [row] = queries.search_article_hits(None, "walrus").rows([article.pk])
        return stored_article_text(row.pk, row.summary, row.body, row.article)

    assert text() == article.search_text() == "Walrus care. All about the walrus."
    ArticlePage.objects.filter(pk=article.pk).update(summary="Walrus grooming.")
    assert text() == "Walrus grooming. All about the walrus."  # a save without signal


def test_rows_never_read_what_the_reader_may_not_see(
    make_article, make_category, make_user, seconds
):
    public = make_article("Otter public", body=_body("otter"))
    customers = make_article("Otter customers", audience="customers")
    agents = make_article("Otter agents", audience="agents")
    private = make_article("Otter private")
    PageViewRestriction.objects.create(page=private, restriction_type="login")
    draft = make_article("Otter draft", publish=False)
    other = make_category("Other")
    elsewhere = make_article("Otter elsewhere", parent=other)
    asked = [a.pk for a in (public, customers, agents, private, draft, elsewhere)]
    readers = {
        "anonymous": (AnonymousUser(), [public, elsewhere]),
        "customer": (
            make_user("c@example.com", groups=["Customers"]),
            [public, customers, elsewhere],
        ),
        "agent": (
            make_user("a@example.com", groups=["Agents"]),
            [public, customers, agents, elsewhere],
        ),
    }
    for _turn in (1, 2):  # each reader after the others' kept statements
        for reader, shown in readers.values():
            hits = queries.search_article_hits(reader, "otter")
            assert [row.pk for row in hits.rows(asked)] == [a.pk for a in shown]
            narrowed = queries.search_article_hits(reader, "otter", category=other)
            assert [row.pk for row in narrowed.rows(asked)] == [elsewhere.pk]
    assert len(caching.search_reads) == (6 if seconds else 0)


def test_the_rows_statement_is_kept_until_the_kb_changes(
    make_article, settings, django_assert_num_queries
):
    settings.KB_PAGE_CACHE_SECONDS = 300
    article = make_article("Otter care")
    hits = queries.search_article_hits(None, "otter")
    hits.rows(hits.ids)
    [(key, (_generation, statement))] = caching.search_reads.items()
    with django_assert_num_queries(1):
        again = queries.search_article_hits(None, "otter")
        assert [row.pk for row in again.rows(again.ids)] == [article.pk]
    assert caching.search_reads[key][1] is statement
    make_article("Otter food")
    assert caching.search_reads == {}
    again = queries.search_article_hits(None, "otter")
    assert len(again.rows(again.ids)) == 2
    assert caching.search_reads[key][1] is not statement


def _shown(client, **params):
    response = client.get("/kb/search/", {"q": "otter", **params})
    html = response.content.decode()
    hits = response.context["hits"]
    for hit in hits:
        assert f'<a href="{hit.url}">{hit.title}</a>' in html
    return [(hit.title, hit.url) for hit in hits]


@pytest.mark.parametrize("reader", ["anonymous", "customer"])
def test_publishing_unpublishing_and_moving_show_at_the_next_search(
    reader, make_article, make_category, make_user, client, settings
):
    settings.KB_PAGE_CACHE_SECONDS = 300  # as with Redis (one process here)
    if reader == "customer":
        client.force_login(make_user("c@example.com", groups=["Customers"]))
    other = make_category("Other topics")
    article = make_article("Otter care", body=_body("otter"))
    url = article.url
    assert _shown(client) == _shown(client) == [("Otter care", url)]
    article.title = "Otter grooming"
    article.save_revision().publish()
    assert _shown(client) == [("Otter grooming", url)]
    article.unpublish()
    assert _shown(client) == []
    article.save_revision().publish()
    assert _shown(client) == [("Otter grooming", url)]
    article.move(other, pos="last-child")
    moved = f"{other.url}otter-care/"
    assert _shown(client) == [("Otter grooming", moved)]
    assert _shown(client, category=other.pk) == [("Otter grooming", moved)]
    restriction = PageViewRestriction.objects.create(
        page=other, restriction_type="login"
    )
    assert _shown(client) == []
    restriction.delete()
    assert _shown(client) == [("Otter grooming", moved)]


LOOP = Template(
    '{% for hit in hits %}\n      <li>\n        <h2><a href="{{ hit.url }}">'
    '{{ hit.title }}</a></h2>\n        <p class="kb-snippet">{{ hit.snippet }}'
    "</p>\n      </li>\n    {% endfor %}"
)
TAG = Template("{% load kb_i18n %}{% search_results hits %}")


@pytest.mark.parametrize("autoescape", [True, False])
def test_search_results_are_the_former_loop(autoescape):
    hits = [
        SearchHit(
            1, 'Tom & "Jerry" <b>', "/kb/a/?x=1&y='2'", mark_safe("<mark>a</mark>")
        ),
        SearchHit(2, "Plain", "/kb/b/", mark_safe("")),
        SearchHit(3, "Zażółć", "/ru/kb/ж/", mark_safe("… <mark>x</mark> &amp; …")),
    ]
    for shown in (hits, hits[:1], []):
        context = {"hits": shown}
        loop = LOOP.render(Context(context, autoescape=autoescape))
        assert TAG.render(Context(context, autoescape=autoescape)) == loop
    loop = LOOP.render(Context({"hits": hits}, autoescape=autoescape))
    assert ("Tom &amp; &quot;Jerry&quot; &lt;b&gt;" in loop) is autoescape


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.mark.parametrize("prefix", ["", "/pl", "/ru"])
def test_kept_breadcrumbs_and_alternates_are_the_rendered_ones(
    prefix, make_article, client, settings
):
    make_article("Otter care", body=_body("otter"))

    def page():
        html = client.get(f"{prefix}/kb/search/", {"q": "otter"}).content.decode()
        return CSRF.sub("", html)

    settings.KB_PAGE_CACHE_SECONDS = 0  # rendered each time
    rendered = page()
    settings.KB_PAGE_CACHE_SECONDS = 300
    caching.invalidate()
    assert page() == page() == rendered  # the second from the kept fragments
    assert 'hreflang="pl" href="http://testserver/pl/kb/search/"' in rendered
    assert '<nav class="breadcrumbs"' in rendered
    english = CSRF.sub("", client.get("/kb/search/", {"q": "otter"}).content.decode())
    assert (english == rendered) is (prefix == "")
