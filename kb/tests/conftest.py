import pytest
from django.core.cache import cache
from wagtail.models import Locale

from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage


@pytest.fixture(autouse=True)
def _fresh_counters(settings):
    """View and search counters live in the cache until ``flush_counters`` (as with
    Redis in production); start every test with none left over from another."""
    from kb.counters import flush_view_buffer

    settings.KB_COUNT_IN_CACHE = True
    flush_view_buffer()  # views an earlier test left in this process's buffer
    cache.clear()
    yield
    flush_view_buffer()
    cache.clear()


@pytest.fixture
def kb_index(db):
    """The KB index made by the kb data migration."""
    return KnowledgeBasePage.objects.get(locale=Locale.get_default())


@pytest.fixture
def make_category(kb_index):
    def _make(title="Getting started", slug=None, **extra):
        category = CategoryPage(
            title=title, slug=slug or title.lower().replace(" ", "-"), **extra
        )
        kb_index.add_child(instance=category)
        category.save_revision().publish()
        return category

    return _make


@pytest.fixture
def category(make_category):
    return make_category()


@pytest.fixture
def make_article(category):
    counter = {"n": 0}

    def _make(
        title=None,
        *,
        parent=None,
        audience="public",
        summary="A short summary.",
        body=None,
        tags=(),
        publish=True,
    ):
        counter["n"] += 1
        title = title or f"Article {counter['n']}"
        article = ArticlePage(
            title=title,
            slug=title.lower().replace(" ", "-"),
            summary=summary,
            audience=audience,
            body=body
            if body is not None
            else [("paragraph", "<p>Lumen keeps your team's files in sync.</p>")],
            live=publish,
        )
        (parent or category).add_child(instance=article)
        if tags:
            article.tags.add(*tags)
        revision = article.save_revision()
        if publish:
            revision.publish()
            article.refresh_from_db()
        return article

    return _make
