from django import template
from wagtail.models import Page

from kb.queries import active_locale_id

register = template.Library()


@register.simple_tag
def localized_pages(pages) -> list:
    """``pages`` in the reader's language where a live translation exists (the
    breadcrumbs of an English page shown as a fallback), in one query; none when they
    already are in that language."""
    pages = list(pages)
    locale_id = active_locale_id()
    if all(page.locale_id == locale_id for page in pages):
        return pages
    translations = {
        page.translation_key: page
        for page in Page.objects.live().filter(
            locale_id=locale_id,
            translation_key__in=[page.translation_key for page in pages],
        )
    }
    return [translations.get(page.translation_key, page) for page in pages]
