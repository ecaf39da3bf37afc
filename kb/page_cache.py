"""Rendered knowledge-base pages for anonymous readers, kept in the shared cache.

Why (bench FINDINGS KB-2): an anonymous article page was rebuilt from about twenty
queries (Wagtail's routing, the related articles, tags) for every reader, although every
anonymous reader sees the same HTML. ``serve`` sits in front of Wagtail's own view:

* only a GET without a query string, from a request that carries no session and no
  messages cookie, may be answered from the cache: such a reader is anonymous and has no
  per-visitor state to show (a reader who voted gets a session and its "thank you"
  message, and is never served from here again);
* only pages that say so are stored: ``kb.rendering`` calls
  ``kb.caching.mark_cacheable`` while serving a KB page to an anonymous reader, after
  ``kb.permissions`` allowed it (so an article for customers or agents is never
  stored) and after Wagtail's own ``on_serve_page`` hook refused pages with view
  restrictions;
* the feedback form's CSRF token is stored as a placeholder and each answer gets its own
  token (``get_token``, which also sets the reader's CSRF cookie), so the cached HTML
  carries no visitor's secret and the form keeps working without JavaScript;
* the key holds the host, the active language and the path; each entry records the
  *generation* it was rendered in, and any change to a page, its privacy or its place in
  the tree starts a new generation (``kb.caching.invalidate``, the one rule for every
  kb cache), so a published, unpublished, moved or deleted page is not served once the
  generation is read again. Counts that change without a publish (popular articles on
  the index) may lag by ``timeout()``;
* pages live in the shared cache and, for the most recently used ones, in the process
  too; a process reads the generation from the shared cache at most once per
  ``kb.caching.check_seconds()`` (1 s), so a hit usually costs no cache round trip at
  all (on this machine one Redis round trip cost more than the whole trivial view),
  and a change
  made in another process is seen within that second. The process that made the
  change sees it at once.

A cached article still counts its view (``kb.counters.record_article_view_id``). Keys,
stores and timeouts are ``kb.caching``'s; this module only serves.
"""

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.middleware.csrf import get_token

from . import caching
from .counters import record_article_view_id
from .fallback import serve as wagtail_serve

CSRF_PLACEHOLDER = "kb-page-cache-csrf-token-placeholder"
COPIED_HEADERS = ("Content-Type", "Cache-Control", "Content-Language", "Link")


def _anonymous_request(request) -> bool:
    return (
        request.method == "GET"
        and not request.META.get("QUERY_STRING")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
        and not getattr(request, "is_preview", False)
    )


def serve(request, path):
    """Wagtail's ``serve`` with the anonymous page cache in front."""
    seconds = caching.timeout()
    if not seconds or not _anonymous_request(request):
        return wagtail_serve(request, path)
    key = caching.page_key(request, path)
    generation = caching.current_generation()
    entry = caching.cached_page(key, generation, seconds)
    if entry is not None:
        if entry["article_id"] is not None:
            record_article_view_id(entry["article_id"])
        return _response(request, entry)
    response = wagtail_serve(request, path)
    marked = caching.marked(request)
    if (
        marked is None
        or response.status_code != 200
        or not hasattr(response, "context_data")
        or response.is_rendered
        or response.cookies
    ):
        return response
    response.context_data["csrf_token"] = CSRF_PLACEHOLDER
    response.render()
    entry = {
        "generation": generation,
        "article_id": marked["article_id"],
        "content": response.content,
        "headers": {h: response[h] for h in COPIED_HEADERS if h in response},
    }
    caching.store_page(key, entry, seconds)
    response.content = _with_token(request, entry["content"])
    return response


def _with_token(request, content: bytes) -> bytes:
    if CSRF_PLACEHOLDER.encode() not in content:
        return content
    return content.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())


def _response(request, entry) -> HttpResponse:
    response = HttpResponse(_with_token(request, entry["content"]))
    for header, value in entry["headers"].items():
        response[header] = value
    return response
