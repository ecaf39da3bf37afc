from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "kb"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save
        from wagtail.models import Page, PageViewRestriction
        from wagtail.signals import page_published, page_unpublished, post_page_move

        from .page_cache import bump_generation
        from .webhook_events import on_page_published

        # article.published → webhook outbox. Wagtail has no other publishing hook.
        page_published.connect(
            on_page_published, dispatch_uid="kb.webhook_events.article_published"
        )

        # Anything that can change what an anonymous reader sees starts a new page-cache
        # generation (kb.page_cache). Wagtail offers signals only for these.
        page_published.connect(bump_generation, dispatch_uid="kb.page_cache.published")
        page_unpublished.connect(
            bump_generation, dispatch_uid="kb.page_cache.unpublished"
        )
        post_page_move.connect(bump_generation, dispatch_uid="kb.page_cache.moved")

        def on_change(sender, instance, **kwargs):
            if isinstance(instance, (Page, PageViewRestriction)):
                bump_generation()

        post_save.connect(on_change, weak=False, dispatch_uid="kb.page_cache.saved")
        post_delete.connect(on_change, weak=False, dispatch_uid="kb.page_cache.deleted")
