"""Knowledge-base pages for the GraphQL tests (imported by conftest.py)."""

import pytest


@pytest.fixture
def kb_index(db):
    from wagtail.models import Locale

    from kb.models import KnowledgeBasePage

    return KnowledgeBasePage.objects.get(locale=Locale.get_default())


@pytest.fixture
def make_category(kb_index):
    from kb.models import CategoryPage

    def _make(title="Getting started", slug=None):
        category = CategoryPage(
            title=title, slug=slug or title.lower().replace(" ", "-")
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
    from kb.models import ArticlePage

    def _make(
        title,
        *,
        parent=None,
        audience="public",
        tags=(),
        publish=True,
        body=None,
        slug=None,
    ):
        article = ArticlePage(
            title=title,
            slug=slug or title.lower().replace(" ", "-"),
            summary=f"About {title.lower()}.",
            audience=audience,
            body=body or [("paragraph", f"<p>{title} explained.</p>")],
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
