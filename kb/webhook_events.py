"""``article.published`` for integrators, from Wagtail's ``page_published`` signal.

Wagtail gives no other hook for publishing (the admin, scheduled publishing and the API
all end in ``PublishPageRevisionAction``), so this is one of the few signals we use.
An article is announced to a webhook only when its owner may read it
(``kb.permissions.can_view_article``, asked when the event is recorded): agents-only
articles reach staff owners' webhooks only, and articles in a private section nobody's.
"""

from django.db import transaction

from webhooks.outbox import enqueue

ARTICLE_MODEL = "kb.articlepage"


def article_payload(page) -> dict:
    parent = page.get_parent()
    return {
        "id": page.pk,
        "title": page.title,
        "slug": page.slug,
        "summary": getattr(page, "summary", ""),
        "url": page.get_full_url(),
        "category": parent.title if parent else None,
        "firstPublishedAt": page.first_published_at,
        "lastPublishedAt": page.last_published_at,
    }


def on_page_published(sender, instance, **kwargs):
    if instance._meta.label_lower != ARTICLE_MODEL:
        return
    from kb.permissions import can_view_article

    payload = None

    def payload_for(owner):
        nonlocal payload
        if not can_view_article(owner, instance):
            return None
        payload = payload or article_payload(instance)
        return payload

    # Wagtail publishes without a wrapping transaction; join the caller's if any.
    with transaction.atomic():
        enqueue("article.published", payload_for, ordering_key=f"article:{instance.pk}")
