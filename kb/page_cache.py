"""Rendered knowledge-base pages for anonymous readers, kept in the shared cache.

Why (bench FINDINGS KB-2): an anonymous article page was rebuilt from about twenty
queries (Wagtail's routing, the related articles, tags) for every reader, although every
anonymous reader sees the same HTML. ``serve`` sits in front of Wagtail's own view:

* only a GET without a query string, from a request that carries no session and no
  messages cookie, may be answered from the cache: such a reader is anonymous and has no
  per-visitor state to show (a reader who voted gets a session and its "thank you"
  message, and is never served from here again);
* only pages that say so are stored: the KB pages call ``mark_cacheable`` while serving
  an anonymous request, after ``kb.permissions`` allowed it (so an article for customers
  or agents is never stored), and Wagtail's ``before_serve_page`` hooks have already
  refused pages with view restrictions before a page's ``serve`` runs;
* the feedback form's CSRF token is stored as a placeholder and each answer gets its own
  token (``get_token``, which also sets the reader's CSRF cookie), so the cached HTML
  carries no visitor's secret and the form keeps working without JavaScript;
* the key holds the host, the active language and the path; each entry records the
  *generation* it was rendered in, and any change to a page, its privacy or its place in
  the tree starts a new generation (``bump_generation``, wired in ``kb.apps``), so a
  published, unpublished, moved or deleted page is not served once the generation is
  read again. Counts that change without a publish (popular articles on the index) may
  lag by ``timeout()``;
* pages live in the shared cache and, for the most recently used ones, in the process
  too; a process reads the generation from the shared cache at most once per
  ``check_seconds()`` (1 s), so a hit usually costs no cache round trip at all (on this
  machine one Redis round trip cost more than the whole trivial view), and a change
  made in another process is seen within that second. The process that made the
  change sees it at once.

A cached article still counts its view (``kb.services.record_article_view_id``). The
cache must be shared by every process (Redis): with the per-process local-memory cache a
publish in one process could not reach the others, so the page cache is off there unless
``KB_PAGE_CACHE_SECONDS`` says otherwise.
"""

import hashlib
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

from . import services
from .fallback import serve as wagtail_serve

GENERATION_KEY = "kb:page:generation"
CSRF_PLACEHOLDER = "kb-page-cache-csrf-token-placeholder"
DEFAULT_TIMEOUT = 300
DEFAULT_CHECK_SECONDS = 1.0
LOCAL_PAGES = 256  # per process; a KB page is 10-60 kB
COPIED_HEADERS = ("Content-Type", "Cache-Control", "Content-Language", "Link")


def timeout() -> int:
    """Seconds a page is kept; 0 switches the cache off. ``KB_PAGE_CACHE_SECONDS``
    overrides; by default on (300 s) only when the cache is shared between processes."""
    configured = getattr(settings, "KB_PAGE_CACHE_SECONDS", None)
    if configured is not None:
        return max(int(configured), 0)
    return DEFAULT_TIMEOUT if services.cache_is_shared() else 0


def check_seconds() -> float:
    """How long a process trusts the generation it last read (``KB_PAGE_CACHE_CHECK_
    SECONDS``, default 1): a change made in another process is seen within that."""
    return float(
        getattr(settings, "KB_PAGE_CACHE_CHECK_SECONDS", DEFAULT_CHECK_SECONDS)
    )


class _Local:
    """This process's copy: the generation last read (and when), and the most recently
    used pages, so that a hit costs no cache round trip at all."""

    def __init__(self):
        self.lock = threading.Lock()
        self.generation = None
        self.read_at = 0.0
        self.pages: OrderedDict = OrderedDict()

    def get(self, key, generation):
        with self.lock:
            entry = self.pages.get(key)
            if entry is None:
                return None
            if entry["generation"] != generation or entry["expires"] < time.monotonic():
                del self.pages[key]
                return None
            self.pages.move_to_end(key)
            return entry

    def put(self, key, entry):
        with self.lock:
            self.pages[key] = entry
            self.pages.move_to_end(key)
            while len(self.pages) > LOCAL_PAGES:
                self.pages.popitem(last=False)


_local = _Local()


def bump_generation(**_ignored) -> None:
    """Start a new generation: every page stored before is ignored from now on. A time
    stamp rather than a counter, so that an evicted generation key can never bring an
    old generation back."""
    generation = time.time_ns()
    cache.set(GENERATION_KEY, generation, None)
    with _local.lock:
        _local.generation, _local.read_at = generation, time.monotonic()
        _local.pages.clear()


def current_generation() -> int:
    """The knowledge base's current generation, for the page cache and for other caches
    of what pages show (``kb.services`` search results): from this process's copy while
    it is fresh, else from the shared cache (made if missing)."""
    now = time.monotonic()
    if _local.generation is not None and now - _local.read_at < check_seconds():
        return _local.generation
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        generation = time.time_ns()
        if not cache.add(GENERATION_KEY, generation, None):
            generation = cache.get(GENERATION_KEY, generation)
    with _local.lock:
        _local.generation, _local.read_at = generation, now
    return generation


def _anonymous_request(request) -> bool:
    return (
        request.method == "GET"
        and not request.META.get("QUERY_STRING")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
        and not getattr(request, "is_preview", False)
    )


def _key(request, path: str) -> str:
    raw = f"{request.get_host()}|{get_language()}|{path}"
    return "kb:page:" + hashlib.sha256(raw.encode()).hexdigest()


def mark_cacheable(request, *, article_id=None) -> None:
    """Called by a KB page serving ``request``: its response may be stored for every
    anonymous reader. ``article_id``: the view to count on each cached answer."""
    if not request.user.is_authenticated:
        request._kb_page_cache = {"article_id": article_id}


def serve(request, path):
    """Wagtail's ``serve`` with the anonymous page cache in front."""
    seconds = timeout()
    if not seconds or not _anonymous_request(request):
        return wagtail_serve(request, path)
    key = _key(request, path)
    generation = current_generation()
    entry = _local.get(key, generation)
    if entry is None:
        entry = cache.get(key)
        if entry is not None and entry["generation"] == generation:
            _local.put(key, {**entry, "expires": time.monotonic() + seconds})
        else:
            entry = None
    if entry is not None:
        if entry["article_id"] is not None:
            services.record_article_view_id(entry["article_id"])
        return _response(request, entry)
    response = wagtail_serve(request, path)
    marked = getattr(request, "_kb_page_cache", None)
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
    cache.set(key, entry, seconds)
    _local.put(key, {**entry, "expires": time.monotonic() + seconds})
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
