"""Routing of knowledge-base pages: English fallback, and the route kept between
requests.

Wagtail routes ``/pl/kb/…`` and ``/ru/kb/…`` through the tree of that language's
translation of the site root (``Site.root_page.localized``). When that tree has no page
at the path (the article was never translated), ``serve`` routes the same path through
the default language's tree instead and serves the English page, with the interface
still in the reader's language; ``request.kb_fallback_language`` tells the base template
to show a note saying so (and the hreflang alternates point at the real versions).
The same note shows when the whole tree is untranslated (``localized`` returns the
English root, so Wagtail itself serves English pages under the prefix).
An unknown path is still a 404 in every language.

Finding the route costs a statement for the site, one for the locale and two per path
segment, and Wagtail's view-restriction check two more, for every reader alike. The
route of a KB page (its site, the live page with its ancestors and locale, and the
view restrictions that apply to it) is kept by ``kb.caching.route`` until the knowledge
base changes; Wagtail then serves it as if it had routed it itself
(``request._wagtail_site``, ``request._wagtail_route_for_request``), applying the
restrictions to each reader.
"""

from django.conf import settings
from django.http import Http404
from django.utils import translation
from wagtail.models import Page, Site
from wagtail.views import serve as wagtail_serve

from . import caching
from .models import ArticlePage, CategoryPage, KnowledgeBasePage

KEPT_PAGE_TYPES = (KnowledgeBasePage, CategoryPage, ArticlePage)


def serve(request, path):
    """Wagtail's ``serve``, falling back to the default language's page."""
    site, route, fallback_language = caching.route(
        request, path, lambda: _route(request, path)
    )
    request._wagtail_site = site
    request._wagtail_route_for_request = route
    if route is None:
        raise Http404
    if fallback_language:
        request.kb_fallback_language = fallback_language
    return wagtail_serve(request, path)


def _route(request, path):
    """``((site, route, fallback language), keep)`` as Wagtail routes ``path``;
    ``keep``: a KB page without arguments, whose route ``kb.caching`` may keep."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    route = Page.route_for_request(request, path)
    if route is None and language != settings.LANGUAGE_CODE:
        del request._wagtail_route_for_request
        with translation.override(settings.LANGUAGE_CODE):
            route = Page.route_for_request(request, path)
    site = Site.find_for_request(request)
    if route is None:
        return (site, None, None), False
    page, args, kwargs = route
    fallback_language = None
    if language != settings.LANGUAGE_CODE and page.locale.language_code != language:
        fallback_language = language
    keep = isinstance(page, KEPT_PAGE_TYPES) and not args and not kwargs
    if keep:
        page.locale  # noqa: B018 — read now, kept with the page (og:locale, hreflang)
        restrictions = page.get_view_restrictions()
        list(restrictions)  # read now: the queryset keeps its rows when pickled
        page.known_view_restrictions = restrictions
        # the parents Wagtail cached while routing: nothing on a KB page asks for
        # them, and each would cost a model to unpickle per request
        page.__dict__.pop("_cached_parent_obj", None)
    return (site, route, fallback_language), keep
