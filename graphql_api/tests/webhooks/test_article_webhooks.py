"""article.published for public knowledge-base articles only."""

import pytest
from wagtail.models import Locale, PageViewRestriction

from graphql_api.models import WebhookDelivery
from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage


@pytest.fixture
def category(db):
    index = KnowledgeBasePage.objects.get(locale=Locale.get_default())
    category = CategoryPage(title="Sync", slug="sync")
    index.add_child(instance=category)
    category.save_revision().publish()
    return category


def _article(category, title, audience="public"):
    article = ArticlePage(
        title=title,
        slug=title.lower().replace(" ", "-"),
        summary="Short answer.",
        audience=audience,
        body=[("paragraph", "<p>Text</p>")],
        live=False,
    )
    category.add_child(instance=article)
    return article


@pytest.mark.django_db
def test_publishing_a_public_article_enqueues_article_published(category, make_webhook):
    webhook = make_webhook(events=["article.published"])
    make_webhook(name="tickets only", events=["ticket.created"])
    article = _article(category, "Reset sync")
    article.save_revision().publish()

    [delivery] = WebhookDelivery.objects.all()
    assert (delivery.webhook, delivery.event, delivery.ordering_key) == (
        webhook,
        "article.published",
        f"article:{article.pk}",
    )
    assert delivery.payload["title"] == "Reset sync"
    assert delivery.payload["slug"] == "reset-sync"
    assert delivery.payload["summary"] == "Short answer."
    assert delivery.payload["category"] == "Sync"
    assert delivery.payload["url"].endswith("/kb/sync/reset-sync/")

    article.save_revision().publish()  # republishing is announced again
    assert WebhookDelivery.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("audience", ["customers", "agents"])
def test_restricted_audiences_are_not_announced(category, make_webhook, audience):
    make_webhook(events=["article.published"])
    _article(category, "Internal runbook", audience=audience).save_revision().publish()
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.django_db
def test_pages_behind_a_view_restriction_are_not_announced(category, make_webhook):
    make_webhook(events=["article.published"])
    PageViewRestriction.objects.create(
        page=category, restriction_type=PageViewRestriction.LOGIN
    )
    _article(category, "Members only").save_revision().publish()
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.django_db
def test_publishing_a_category_is_not_announced(make_webhook):
    make_webhook(events=["article.published"])
    index = KnowledgeBasePage.objects.get(locale=Locale.get_default())
    category = CategoryPage(title="Billing", slug="billing")
    index.add_child(instance=category)
    category.save_revision().publish()
    assert WebhookDelivery.objects.count() == 0
