"""English fallback for knowledge-base pages missing in the reader's language.

Wagtail routes ``/pl/kb/…`` and ``/ru/kb/…`` through the tree of that language's
translation of the site root (``Site.root_page.localized``). When that tree has no page
at the path (the article was never translated), ``serve`` routes the same path through
the default language's tree instead and serves the English page, with the interface
still in the reader's language; ``request.kb_fallback_language`` tells the base template
to show a note saying so (and the hreflang alternates point at the real versions).
The same note shows when the whole tree is untranslated (``localized`` returns the
English root, so Wagtail itself serves English pages under the prefix).
An unknown path is still a 404 in every language.
"""

from django.conf import settings
from django.http import Http404
from django.utils import translation
from wagtail.models import Page
from wagtail.views import serve as wagtail_serve


def serve(request, path):
    """Wagtail's ``serve``, falling back to the default language's page."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    if language == settings.LANGUAGE_CODE:
        return wagtail_serve(request, path)
    route = Page.route_for_request(request, path)
    if route is None:
        del request._wagtail_route_for_request
        with translation.override(settings.LANGUAGE_CODE):
            route = Page.route_for_request(request, path)
        if route is None:
            raise Http404
    if route[0].locale.language_code != language:
        request.kb_fallback_language = language
    return wagtail_serve(request, path)
