"""``article.published`` for integrators, from Wagtail's ``page_published`` signal.

Wagtail gives no other hook for publishing (the admin, scheduled publishing and the API
all end in ``PublishPageRevisionAction``), so this is one of the few signals we use.
Only public knowledge-base articles without view restrictions are announced: an
integrator must not learn about agent-only content.
"""

from django.db import transaction

from .outbox import enqueue

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
    if getattr(instance, "audience", None) != "public":
        return
    if instance.get_view_restrictions().exists():
        return
    # Wagtail publishes without a wrapping transaction; join the caller's if any.
    with transaction.atomic():
        enqueue(
            "article.published",
            article_payload(instance),
            ordering_key=f"article:{instance.pk}",
        )
