from django import template
from django.core.signals import setting_changed
from django.template.base import render_value_in_context
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from wagtail.models import Page

from kb import caching
from kb.queries import active_locale_id
from portal.escaping import escaped

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


@register.simple_tag(takes_context=True)
def kept_pageurl(context, page) -> str:
    """Wagtail's ``{% pageurl page %}`` (``page.get_url(request)``), remembered until
    the knowledge base changes (``kb.caching.page_url``)."""
    if not isinstance(page, Page):
        raise ValueError(f"kept_pageurl tag expected a Page object, got {page!r}")
    return caching.page_url(page, context.get("request"))


@register.simple_tag(takes_context=True)
def category_options(context, categories, chosen) -> SafeString:
    """The search filter's ``<option>`` of each category, as the loop
    ``{% for c in categories %}<option value="{{ c.pk }}"{% if chosen.pk == c.pk %}
    selected{% endif %}>{{ c.title }}</option>{% endfor %}`` writes them (each value
    through the template's own ``render_value_in_context``), without a node per
    variable; escaped only where the template escapes)."""
    chosen_pk = getattr(chosen, "pk", None)
    key = (
        tuple((c.pk, type(c.title), c.title) for c in categories),
        chosen_pk,
        context.autoescape,
        context.use_l10n,
        get_language(),
    )
    html = _OPTIONS.get(key)
    if html is None:
        html = _options(context, categories, chosen_pk)
        if len(_OPTIONS) >= OPTIONS_MAX:
            _OPTIONS.clear()
        _OPTIONS[key] = html
    return html


# ``category_options``' output per (categories' ids and titles, the chosen id,
# autoescape, localization, language): a function of them and of the format settings
# (emptied when a setting changes). The categories are the same list for every search
# of a language until the knowledge base changes.
_OPTIONS: dict[tuple, SafeString] = {}
OPTIONS_MAX = 256


def _forget_options(**kwargs) -> None:
    _OPTIONS.clear()


setting_changed.connect(_forget_options, dispatch_uid="kb-category-options")


def _options(context, categories, chosen_pk) -> SafeString:
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (
                SafeString(render_value_in_context(c.pk, context)),
                SafeString(" selected" if chosen_pk == c.pk else ""),
                SafeString(render_value_in_context(c.title, context)),
            )
            for c in categories
        ),
    )


RESULT = """
      <li>
        <h2><a href="{url}">{title}</a></h2>
        <p class="kb-snippet">{snippet}</p>
      </li>
    """


@register.simple_tag(takes_context=True)
def search_results(context, hits) -> SafeString:
    """The search page's results (``kb.views.SearchHit``s) as the template's former
    loop wrote them, each value escaped where the template escapes::

        {% for hit in hits %}
          <li>
            <h2><a href="{% kept_pageurl hit.article %}">{{ hit.article.title }}</a></h2>
            <p class="kb-snippet">{{ hit.snippet }}</p>
          </li>
        {% endfor %}
    """
    escape = escaped if context.autoescape else str
    return mark_safe(  # noqa: S308 - every value escaped here
        "".join(
            RESULT.format(
                url=escape(hit.url),
                title=escape(hit.title),
                snippet=escape(hit.snippet),
            )
            for hit in hits
        )
    )
