"""Every cache of the knowledge base, its keys, and the one rule that empties them.

| cache | kept in | key | holds |
|---|---|---|---|
| rendered pages | shared cache + 256 per process | ``kb:page:`` + sha256(host, language, path) | anonymous HTML of KB pages (``kb.page_cache``) |
| search matches | process, 512 | (generation, terms, locale, audiences, category) | ranked article ids of one search (``kb.queries``) |
| locale ids | process | language code, tagged with the generation | ``Locale`` id of the active language |
| locale languages | process | locale id, tagged with the generation | language code (stop words, stemming) |
| ranking indexes | process | locale id; per article its ``last_published_at`` | ``kb.ranking.Index`` |
| search breadcrumbs | process | locale id, tagged with the generation | the KB index of a language and its ancestors, for the search page (``kb.queries.search_breadcrumbs``; only while the page cache is on) |
| search categories | process | locale id, tagged with the generation | the live public categories of a language, for the search page's filter (``kb.queries.search_categories``; only while the page cache is on) |
| view restrictions | process | tagged with the generation | Wagtail's "not in a private section" condition (``kb.permissions.public_q``; only while the page cache is on) |
| sites | process, 64 | (generation, host, port) | the Wagtail ``Site`` of a host, for the links of the search page (``site_for``; only while the page cache is on) |
| page fragments | process, 2048 | (generation, scheme, host, name, page id, live revision, language, *extra) | what a KB page shows every reader alike: an article's rendered body, tags, breadcrumbs, head and language links, the search page's breadcrumbs and language links (keyed by the KB index); its related articles per audience set (``fragment``; ``{% kb_fragment %}``) |
| search page reads | process | (audiences, locale id, category id), tagged with the generation | the statement that reads a page of search results (``kb.queries.ArticleHits.rows``: the reader's visibility and the view restrictions of the generation in it; only while the page cache is on) |
| page URLs | process, 4096 | (generation, request's site, page id, URL path, locale, language, script prefix, URLconf) | ``page.get_url(request)`` of a result or breadcrumb on the search page (``page_url``; ``{% kept_pageurl %}``; only while the page cache is on) |
| routes | process, 1024 | (generation, host, port, language, path) | a KB page's route: the Wagtail ``Site``, the live page (with its ancestors and locale) and the view restrictions that apply to it, pickled (``route``; ``kb.fallback``) |

**The one rule.** Anything that can change what a reader sees (a page saved,
published, unpublished, moved or deleted; a view restriction, a locale or a site saved or
deleted: the signals wired in ``kb.apps``) calls ``invalidate()``. It starts a new
*generation* in the shared cache (``GENERATION_KEY``, a time stamp so that an evicted
key cannot bring an old generation back) and empties this process's page, match and
locale stores at once. Every entry is tagged with the generation it was made in and
an entry of another generation is never used, so other processes drop theirs as soon
as they read the generation again: at most once per ``check_seconds()`` (1 s), which
keeps a cached page hit free of cache round trips. A ranking index is not an answer
but the material one is computed from: on every search it is checked against the
(id, last published) pairs of the articles the reader may see, and ``invalidate``
marks the changed article for re-indexing in this process.

Routes are what Wagtail looks up before it serves any page, for every reader alike
(the site of the host, the language's root, one query per path segment, the view
restrictions of the page and its ancestors): a KB page's route is kept so that a
signed-in reader's page skips them. The restrictions are still applied to each reader
(Wagtail's own ``check_view_restrictions``); only the list of them is remembered. A
``Site`` saved or deleted invalidates too.

Page fragments are what a signed-in reader's page (which the page cache never serves:
it depends on the reader) shares with everyone else's, so that such a page costs the
queries of what is really the reader's own (their audience, the CSRF token, the
userbar) and not the body's, the tags' or the breadcrumbs'. Previews are never served
from them (they show an unsaved revision under the live revision's id).

Nothing else expires on a schedule of its own, except what no publish changes: the
popular articles on the KB index are counts, which a cached index page shows for at
most ``timeout()`` seconds. The page and match caches are on only where the cache is
shared by every process (Redis), since a publish in one process could not reach the
others through a per-process cache; ``KB_PAGE_CACHE_SECONDS`` overrides. View and
search counts (``kb.counters``) are counters, not caches: nothing is read back from
them until they are stored.
"""

import collections
import hashlib
import pickle
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language
from wagtail.models import Site

from portal import cache as shared_cache
from portal.cache import cache_is_shared

GENERATION_KEY = "kb:page:generation"
PAGE_KEY_PREFIX = "kb:page:"
DEFAULT_TIMEOUT = 300
DEFAULT_CHECK_SECONDS = 1.0
LOCAL_PAGES = 256  # per process; a KB page is 10-60 kB
MATCH_ENTRIES = 512
FRAGMENT_ENTRIES = 2048
ROUTE_ENTRIES = 1024  # per process; a pickled route is 3-10 kB
SITE_ENTRIES = 64
PAGE_URL_ENTRIES = 4096


def timeout() -> int:
    """Seconds a page is kept; 0 switches the page and match caches off.
    ``KB_PAGE_CACHE_SECONDS`` overrides; by default on (300 s) only when the cache is
    shared between processes."""
    configured = getattr(settings, "KB_PAGE_CACHE_SECONDS", None)
    if configured is not None:
        return max(int(configured), 0)
    return DEFAULT_TIMEOUT if cache_is_shared() else 0


def check_seconds() -> float:
    """How long a process trusts the generation it last read (``KB_PAGE_CACHE_CHECK_
    SECONDS``, default 1): a change made in another process is seen within that."""
    return float(
        getattr(settings, "KB_PAGE_CACHE_CHECK_SECONDS", DEFAULT_CHECK_SECONDS)
    )


class _Lru:
    """A small thread-safe least-recently-used store of this process."""

    def __init__(self, size: int):
        self.size = size
        self.lock = threading.Lock()
        self.entries: collections.OrderedDict = collections.OrderedDict()

    def get(self, key):
        with self.lock:
            if key not in self.entries:
                return None
            self.entries.move_to_end(key)
            return self.entries[key]

    def put(self, key, value) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def pop(self, key) -> None:
        with self.lock:
            self.entries.pop(key, None)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


class _Generation:
    def __init__(self):
        self.lock = threading.Lock()
        self.value = None
        self.read_at = 0.0


_generation = _Generation()
pages = _Lru(LOCAL_PAGES)  # page key → entry with "generation" and "expires"
matches = _Lru(MATCH_ENTRIES)  # (generation, *search) → tuple of article ids
fragments = _Lru(FRAGMENT_ENTRIES)  # (generation, name, *key) → (value,)
routes = _Lru(ROUTE_ENTRIES)  # (generation, host, port, language, path) → pickle
locale_ids: dict = {}  # language code → (generation, Locale id)
locale_languages: dict = {}  # locale id → (generation, language code)
search_crumbs: dict = {}  # locale id → (generation, list of pages)
search_categories: dict = {}  # locale id → (generation, list of categories)
search_reads: dict = {}  # (audiences, locale id, category id) → (generation, statement)
view_restrictions: dict = {}  # None → (generation, Q)
sites = _Lru(SITE_ENTRIES)  # (generation, host, port) → (Site or None,)
page_urls = _Lru(PAGE_URL_ENTRIES)  # (generation, site id, …, page id …) → URL
search_indexes: dict = {}  # locale id → kb.ranking.Index
search_index_lock = (
    threading.Lock()
)  # held while an index is read or brought up to date


def current_generation() -> int:
    """The knowledge base's current generation: from this process's copy while it is
    fresh, else from the shared cache (made if missing)."""
    now = time.monotonic()
    if _generation.value is not None and now - _generation.read_at < check_seconds():
        return _generation.value
    # the cache down: a generation of this process's own (nothing outlives the check)
    generation = shared_cache.generation(GENERATION_KEY) or time.time_ns()
    with _generation.lock:
        _generation.value, _generation.read_at = generation, now
    return generation


def invalidate(*, page_id=None) -> None:
    """The one invalidation rule (see the module's docstring): a new generation for
    every process, and this process's stores emptied now. ``page_id``: the page that
    changed, re-indexed for search on its next read here."""
    generation = time.time_ns()
    cache.set(GENERATION_KEY, generation, None)
    with _generation.lock:
        _generation.value, _generation.read_at = generation, time.monotonic()
    pages.clear()
    matches.clear()
    fragments.clear()
    routes.clear()
    locale_ids.clear()
    locale_languages.clear()
    search_crumbs.clear()
    search_categories.clear()
    search_reads.clear()
    view_restrictions.clear()
    sites.clear()
    page_urls.clear()
    if page_id is not None:
        with search_index_lock:
            for index in search_indexes.values():
                index.stamps.pop(page_id, None)


def remembered(store: dict, key, compute):
    """``compute()``, kept in ``store`` under ``key`` for the current generation (an
    entry of an older generation is replaced, so a store holds one per key)."""
    generation = current_generation()
    known = store.get(key)
    if known is not None and known[0] == generation:
        return known[1]
    value = compute()
    store[key] = (generation, value)
    return value


def remembered_while_shared(store: dict, key, compute):
    """``remembered`` while the page cache is on (a shared cache carries the
    generation to every process); ``compute()`` each time otherwise."""
    if not timeout():
        return compute()
    return remembered(store, key, compute)


def matched_ids(key: tuple, compute) -> list[int]:
    """The ids one search matched, remembered for the current generation while the page
    cache is on (the result cache of a search engine, like Solr's queryResultCache
    emptied on commit). The articles are still loaded, checked and rendered, and the
    search still counted, on every request."""
    if not timeout():
        return compute()
    key = (current_generation(), *key)
    found = matches.get(key)
    if found is not None:
        return list(found)
    ids = compute()
    matches.put(key, tuple(ids))
    return ids


def fragment_key(name: str, page, *extra) -> tuple:
    """The key of a fragment of ``page`` as it is live now, in the active language."""
    return (name, page.pk, page.live_revision_id, get_language(), *extra)


def fragment(request, key: tuple, compute):
    """``compute()``, shared by every reader of the current generation while the page
    cache is on (see the module's docstring); computed afresh for previews and while
    the cache is off. ``key``: ``fragment_key(...)``."""
    if not timeout() or request is None or getattr(request, "is_preview", False):
        return compute()
    # links name the site
    full = (current_generation(), request.scheme, request.get_host(), *key)
    found = fragments.get(full)
    if found is not None:
        return found[0]
    value = compute()
    fragments.put(full, (value,))
    return value


def route(request, path: str, compute):
    """What ``compute()`` answers for this request's host, port, language and
    ``path``: ``(value, keep)``; ``value`` is kept (pickled: each request gets its own
    copy of the page) for the current generation when ``keep`` is true, while the page
    cache is on and the request is no preview."""
    if not timeout() or getattr(request, "is_preview", False):
        return compute()[0]
    key = (
        current_generation(),
        request._get_raw_host(),  # as Wagtail's Site.find_for_request reads it
        request.get_port(),
        get_language(),
        path,
    )
    found = routes.get(key)
    if found is not None:
        return pickle.loads(found)  # noqa: S301 — pickled by this process above
    value, keep = compute()
    if keep:
        routes.put(key, pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    return value


def site_for(request):
    """``Site.find_for_request(request)``, kept for the current generation while the
    page cache is on (a site saved or deleted starts a new one), and set on the
    request as Wagtail's own lookup does: for the links of a page that Wagtail does
    not route (the search), which ask for the site of the request."""
    if timeout() and not hasattr(request, "_wagtail_site"):
        # as Wagtail's Site._find_for_request reads the host
        key = (current_generation(), request._get_raw_host(), request.get_port())
        found = sites.get(key)
        if found is None:
            found = (Site._find_for_request(request),)
            sites.put(key, found)
        request._wagtail_site = found[0]
    return Site.find_for_request(request)


def page_url(page, request) -> str:
    """``page.get_url(request)`` (what ``{% pageurl %}`` writes), remembered for the
    current generation while the page cache is on: a URL is a function of the page's
    path and locale, the sites (a site saved starts a new generation), the request's
    site (``site_for``, Wagtail's routing), the script prefix and the URLconf, ~180
    Python calls each time. Computed each time while the cache is off or before the
    request's site is known."""
    return page_urls_of(
        request, [(page.pk, page.url_path, page.locale_id, lambda: page)]
    )[0]


def page_urls_of(request, pages) -> list[str]:
    """``page_url`` of each of ``pages``, pages read as rows: (id, URL path, locale id,
    ``page``), ``page()`` giving the page itself, asked only when its URL is not
    remembered."""
    site = getattr(request, "_wagtail_site", None)
    if not timeout() or site is None:
        return [page().get_url(request=request) for *_, page in pages]
    common = (
        current_generation(),
        getattr(site, "pk", None),
        get_language(),
        get_script_prefix(),
        get_urlconf(),
    )
    urls = []
    for page_id, url_path, locale_id, page in pages:
        key = (*common, page_id, url_path, locale_id)
        found = page_urls.get(key)
        if found is None:
            found = (page().get_url(request=request),)
            page_urls.put(key, found)
        urls.append(found[0])
    return urls


def mark_cacheable(request, *, article_id=None) -> None:
    """Called while serving a KB page to ``request``: its response may be stored for
    every anonymous reader. ``article_id``: the view to count on each cached answer."""
    if not request.user.is_authenticated:
        request._kb_page_cache = {"article_id": article_id}


def marked(request):
    """What ``mark_cacheable`` said about this request (``None``: not cacheable)."""
    return getattr(request, "_kb_page_cache", None)


def page_key(request, path: str) -> str:
    raw = f"{request.get_host()}|{get_language()}|{path}"
    return PAGE_KEY_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def cached_page(key: str, generation: int, seconds: int):
    """The stored page of this generation: this process's copy, else the shared one."""
    entry = pages.get(key)
    if entry is not None:
        if entry["generation"] == generation and entry["expires"] >= time.monotonic():
            return entry
        pages.pop(key)
    entry = cache.get(key)
    if entry is None or entry["generation"] != generation:
        return None
    pages.put(key, {**entry, "expires": time.monotonic() + seconds})
    return entry


def store_page(key: str, entry: dict, seconds: int) -> None:
    cache.set(key, entry, seconds)
    pages.put(key, {**entry, "expires": time.monotonic() + seconds})
