"""The search page's kept pieces against the plain ones: ``{% kept_pageurl %}`` writes
Wagtail's ``{% pageurl %}`` and follows a moved page and a changed site at the next
request; ``{% category_options %}`` writes the former loop; a remembered snippet is
the one computed afresh."""

import itertools

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from wagtail.models import Site

from kb import caching, highlight

pytestmark = pytest.mark.django_db

PLAIN_OPTIONS = Template(
    '{% for c in categories %}<option value="{{ c.pk }}"{% if category.pk == c.pk %}'
    " selected{% endif %}>{{ c.title }}</option>{% endfor %}"
)
KEPT_OPTIONS = Template("{% load kb_i18n %}{% category_options categories category %}")


def _urls(pages, request):
    plain = Template(
        "{% load wagtailcore_tags %}{% for p in pages %}{% pageurl p %}|{% endfor %}"
    )
    kept = Template(
        "{% load kb_i18n %}{% for p in pages %}{% kept_pageurl p %}|{% endfor %}"
    )
    context = {"pages": pages, "request": request}
    return plain.render(Context(context)), kept.render(Context(context))


def _request(host="localhost"):
    request = RequestFactory().get("/kb/search/", HTTP_HOST=host)
    caching.site_for(request)
    return request


@pytest.mark.parametrize("seconds", [300, 0])
def test_kept_page_urls_are_wagtails_and_follow_a_move(
    make_article, make_category, settings, seconds
):
    settings.KB_PAGE_CACHE_SECONDS = seconds
    settings.ALLOWED_HOSTS = ["*"]
    other = make_category("Billing & <accounts>", slug="billing")
    article = make_article("Reset your password")
    pages = [article, other, article.get_parent()]
    for _turn in (1, 2):
        plain, kept = _urls(pages, _request())
        assert kept == plain
    assert "reset-your-password" in kept
    article.slug = "new-slug"
    article.save_revision().publish()
    article.refresh_from_db()
    plain, kept = _urls([article], _request())
    assert kept == plain and "new-slug" in kept
    article.move(other, pos="last-child")
    article.refresh_from_db()
    plain, kept = _urls([article], _request())
    assert kept == plain and "billing" in kept


def test_kept_page_urls_follow_a_second_site(make_article, settings):
    settings.KB_PAGE_CACHE_SECONDS = 300
    settings.ALLOWED_HOSTS = ["*"]
    article = make_article("Reset your password")
    first = _urls([article], _request())
    assert first[0] == first[1] and first[1].startswith("/")
    default = Site.objects.get(is_default_site=True)
    Site.objects.create(hostname="other.example", port=80, root_page=default.root_page)
    for host in ("localhost", "other.example"):
        plain, kept = _urls([article], _request(host))
        assert kept == plain


def test_kept_page_url_refuses_what_is_not_a_page():
    with pytest.raises(ValueError):
        Template("{% load kb_i18n %}{% kept_pageurl p %}").render(Context({"p": 1}))


def test_category_options_are_the_loop(make_category):
    categories = [
        make_category("Getting started"),
        make_category('Billing & <b>"accounts"</b>', slug="billing"),
        make_category("Кабинет", slug="kabinet"),
    ]
    for chosen, autoescape in itertools.product(
        [None, *categories, "1"], [True, False]
    ):
        context = {"categories": categories, "category": chosen}
        expected = PLAIN_OPTIONS.render(Context(context, autoescape=autoescape))
        assert KEPT_OPTIONS.render(Context(context, autoescape=autoescape)) == expected
    assert KEPT_OPTIONS.render(Context({"categories": [], "category": None})) == ""


TEXTS = [
    "",
    "Lumen is a sync service. " * 8 + "Deleted files stay in the trash. " * 3,
    '<b>Reset</b> your password & keep it "safe". ' * 10,
    "Пароль можно сбросить. " * 20,
]
QUERIES = ["", "trash", "password reset", "<b>", "пароль", "a", "syncing"]


def test_remembered_snippets_are_the_computed_ones(monkeypatch):
    monkeypatch.setattr(highlight, "_SNIPPETS", {})
    for _turn in (1, 2):
        for text, query in itertools.product(TEXTS, QUERIES):
            for width in (220, 40):
                assert highlight.highlight_snippet(
                    text, query, width=width
                ) == highlight._snippet(text, query, width)
    assert len(highlight._SNIPPETS) == len(TEXTS) * len(QUERIES) * 2


def test_the_snippet_map_is_bounded(monkeypatch):
    monkeypatch.setattr(highlight, "_SNIPPETS", {})
    monkeypatch.setattr(highlight, "SNIPPETS_MAX", 3)
    for n in range(10):
        highlight.highlight_snippet(f"text {n}", "text")
        assert len(highlight._SNIPPETS) <= 3
