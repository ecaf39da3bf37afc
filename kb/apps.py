from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "kb"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save
        from wagtail.models import Locale, Page, PageViewRestriction, Site
        from wagtail.signals import page_published, page_unpublished, post_page_move

        from .caching import invalidate
        from .webhook_events import on_page_published

        # article.published → webhook outbox. Wagtail has no other publishing hook.
        page_published.connect(
            on_page_published, dispatch_uid="kb.webhook_events.article_published"
        )

        # Anything that can change what a reader sees empties every kb cache at once
        # (kb.caching's one rule). Wagtail offers signals only for these.
        def on_change(sender, instance=None, **kwargs):
            if isinstance(instance, Page):
                invalidate(page_id=instance.pk)
            elif isinstance(instance, (PageViewRestriction, Locale, Site)):
                invalidate()

        for signal, name in (
            (page_published, "published"),
            (page_unpublished, "unpublished"),
            (post_page_move, "moved"),
            (post_save, "saved"),
            (post_delete, "deleted"),
        ):
            signal.connect(on_change, weak=False, dispatch_uid=f"kb.caching.{name}")
