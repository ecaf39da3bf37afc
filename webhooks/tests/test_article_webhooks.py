"""article.published, to the webhooks whose owners may read the article."""

import pytest
from wagtail.models import Locale, PageViewRestriction

from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage
from webhooks.models import WebhookDelivery


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


@pytest.fixture
def owners(db, integrator):
    """Webhook owners of each kind: a customer, an agent, an administrator."""
    from django.contrib.auth.models import Permission

    from tickets.tests.factories import QueueFactory, make_agent, make_customer

    permission = Permission.objects.get(codename="add_webhook")
    customer = make_customer(email="alice@acme.example")
    agent = make_agent(QueueFactory(), email="agent@example.com")
    for user in (customer, agent):
        user.user_permissions.add(permission)
    return {"customer": customer, "agent": agent, "admin": integrator}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "audience, receivers",
    [
        ("public", {"customer", "agent", "admin"}),
        ("customers", {"customer", "agent", "admin"}),
        ("agents", {"agent", "admin"}),
    ],
)
def test_an_article_is_announced_to_the_owners_who_may_read_it(
    category, make_webhook, owners, audience, receivers
):
    for name, owner in owners.items():
        make_webhook(name=name, events=["article.published"], owner=owner)
    article = _article(category, "Internal runbook", audience=audience)
    article.save_revision().publish()
    rows = WebhookDelivery.objects.select_related("webhook")
    assert {row.webhook.name for row in rows} == receivers
    assert {row.payload["slug"] for row in rows} == {"internal-runbook"}
    assert len({row.event_id for row in rows}) == 1


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
