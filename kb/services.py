"""State changes and queries of the knowledge base. Views, GraphQL and jobs call these;
none of them re-implements the rules.

Over 400 lines until split: feedback, view counters, the locale cache and search are due
to move to kb/feedback.py, kb/counters.py and kb/search.py (issue #16).
"""

import atexit
import collections
import datetime
import hashlib
import re
import threading
import time

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from wagtail.log_actions import log
from wagtail.models import Locale

from portal.counters import add_to

from . import ranking
from .errors import FeedbackError, KbErrorCode
from .highlight import article_text
from .models import ArticleDailyViews, ArticleFeedback, ArticlePage, UnansweredSearch
from .permissions import can_view_article, visible_articles

COMMENT_MAX_LENGTH = 1000
QUERY_MAX_LENGTH = 255


def _plain(text) -> str:
    """Reader input as used: NUL characters removed (PostgreSQL refuses them in text,
    so one would turn into a server error), surrounding space trimmed."""
    return str(text or "").replace("\x00", "").strip()


# A search term: letters and digits, possibly joined by the punctuation that sits inside
# words ("e-mail", "don't", "v2.1", "name@example.com"). Everything else in reader text
# (quotes, ``*``, ``^``, ``:``, parentheses, a leading ``-`` or ``+``) is query syntax
# to SQLite FTS5 or PostgreSQL ``to_tsquery`` and is dropped.
_TERM = re.compile(r"[^\W_]+(?:[-.'\u2019@_][^\W_]+)*")
_OPERATOR_WORDS = frozenset({"AND", "OR", "NOT", "NEAR"})


def search_text(query) -> str:
    """Reader input as the search backend gets it: whitespace-separated plain terms.

    Wagtail's database backend hands each whitespace-separated word to the full-text
    engine inside its own quoting, which a ``"`` breaks (SQLite FTS5 then fails with
    "unterminated string"), and engine operators would change the meaning. Every
    search of the knowledge base (page, suggestions, portal, GraphQL) goes through
    here. The upper-case operator words ``AND``/``OR``/``NOT``/``NEAR`` are dropped when
    other terms remain, since they cannot be honoured as operators."""
    terms = _TERM.findall(_plain(query)[:QUERY_MAX_LENGTH])
    words = [term for term in terms if term not in _OPERATOR_WORDS]
    return " ".join(words or terms)


@transaction.atomic
def submit_feedback(
    article, *, user, session_key: str, helpful: bool, comment: str = ""
) -> ArticleFeedback:
    """Record "was this helpful?" for ``article``, once per voter.

    The voter is ``user`` when signed in, otherwise the anonymous ``session_key``; a
    second submission by the same voter replaces the first instead of adding a vote.
    Raises ``ArticlePage.DoesNotExist`` when the voter may not read the article (a
    hidden article looks missing) and ``FeedbackError`` on bad input."""
    if not can_view_article(user, article):
        raise ArticlePage.DoesNotExist(_("Article not found."))
    comment = _plain(comment)
    if len(comment) > COMMENT_MAX_LENGTH:
        raise FeedbackError(
            _("Please keep the comment under %(n)d characters.")
            % {"n": COMMENT_MAX_LENGTH},
            KbErrorCode.FEEDBACK_COMMENT_TOO_LONG,
        )
    signed_in = bool(getattr(user, "is_authenticated", False))
    if not signed_in and not session_key:
        raise FeedbackError(
            _("Your browser did not keep a session; enable cookies."),
            KbErrorCode.FEEDBACK_NEEDS_SESSION,
        )
    voter = {"user": user} if signed_in else {"user": None, "session_key": session_key}
    values = {"helpful": bool(helpful), "comment": comment}
    try:
        with transaction.atomic():
            feedback, created = ArticleFeedback.objects.update_or_create(
                article=article, **voter, defaults=values
            )
    except IntegrityError:
        # A concurrent first vote by the same voter won the insert: update it instead.
        feedback = ArticleFeedback.objects.select_for_update().get(
            article=article, **voter
        )
        for name, value in values.items():
            setattr(feedback, name, value)
        feedback.save(update_fields=[*values, "updated_at"])
        created = False
    log(
        instance=article,
        action="kb.feedback",
        user=user if signed_in else None,
        data={"helpful": feedback.helpful, "changed": not created},
    )
    return feedback


# View and search counts are kept in the cache on the request path and moved into the
# database by ``kb.tasks.flush_counters`` every minute (bench FINDINGS KB-1/KB-3): a
# committed UPDATE of one hot row per hit capped the article page at ~230 requests/s.
# ``cache.incr`` is atomic on Redis (shared by every app server); on the per-process
# local-memory cache each process counts and flushes its own. A crash loses at most the
# last minute of counts, acceptable for popularity rankings.
COUNTER_TIMEOUT = 2 * 24 * 3600  # long enough for yesterday's counts to be flushed
FLUSH_LOCK_TIMEOUT = 55


def cache_is_shared() -> bool:
    """Whether the default cache is one store for every process (Redis, Memcached),
    rather than the per-process local-memory or dummy cache."""
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith(("LocMemCache", "DummyCache"))


def counting_in_cache() -> bool:
    """Count in the cache only when the cache is shared with the job worker: with the
    per-process local-memory cache (no ``REDIS_URL``) the django-q2 cluster could never
    see the web processes' counters, so hits are written directly as before.
    ``settings.KB_COUNT_IN_CACHE`` (True/False) overrides the guess."""
    from django.conf import settings

    forced = getattr(settings, "KB_COUNT_IN_CACHE", None)
    if forced is not None:
        return bool(forced)
    return cache_is_shared()


def _views_key(article_id, day) -> str:
    return f"kb:views:{article_id}:{day.isoformat()}"


def _bump(key: str, delta: int = 1) -> int:
    """Atomically add ``delta`` to a counter; returns the new value."""
    return add_to(key, delta, timeout=COUNTER_TIMEOUT)


# An article view (and a search) is first added up in the process and moved to the
# shared cache at most every VIEW_BUFFER_SECONDS, one increment per counter, instead of
# cache round trips on every hit (a cached anonymous page costs none otherwise). A
# process that stops loses at most those seconds of counts (it flushes at exit when it
# can); ``flush_counters`` drains the buffer of the process it runs in first.
VIEW_BUFFER_SECONDS = 5
_view_buffer: collections.Counter = collections.Counter()
_view_buffer_lock = threading.Lock()
_view_buffer_since = time.monotonic()


_search_buffer: collections.Counter = collections.Counter()  # (normalised, day, kind)


def flush_view_buffer() -> int:
    """Move this process's buffered views and searches to the shared cache; returns
    how many views."""
    global _view_buffer_since
    with _view_buffer_lock:
        pending = dict(_view_buffer)
        searches = dict(_search_buffer)
        _view_buffer.clear()
        _search_buffer.clear()
        _view_buffer_since = time.monotonic()
    for key, views in pending.items():
        _bump(key, views)
    for (normalised, day, kind), count in searches.items():
        _q, hits_key, misses_key = _search_keys(day, _search_slot(normalised, day))
        _bump(hits_key if kind == "hits" else misses_key, count)
    return sum(pending.values())


def _buffer(counter: collections.Counter, key) -> None:
    with _view_buffer_lock:
        counter[key] += 1
        due = time.monotonic() - _view_buffer_since >= VIEW_BUFFER_SECONDS
    if due:
        flush_view_buffer()


atexit.register(flush_view_buffer)


def record_article_view(article, *, day=None) -> None:
    """Count one view of ``article`` on ``day`` (today) in the cache; no database
    write on the request path. ``kb.tasks.flush_counters`` stores it."""
    record_article_view_id(article.pk, day=day)


def record_article_view_id(article_id, *, day=None) -> None:
    """``record_article_view`` by id, for pages answered from ``kb.page_cache``."""
    day = day or timezone.localdate()
    if not counting_in_cache():
        store_article_views(article_id, day, 1)
        return
    _buffer(_view_buffer, _views_key(article_id, day))


def store_article_views(article_id, day, views: int) -> None:
    """Add ``views`` to the per-day counter row (an F() update, an insert the first
    time), never touching the page row itself."""
    counter = ArticleDailyViews.objects.filter(article_id=article_id, day=day)
    if counter.update(views=F("views") + views):
        return
    try:
        with transaction.atomic():
            ArticleDailyViews.objects.create(
                article_id=article_id, day=day, views=views
            )
    except IntegrityError:
        counter.update(views=F("views") + views)


# Per process: language code → (locale id, valid until). Locales are created once and
# almost never change; a change saved in this process forgets them at once, one saved
# in another process is seen within LOCALE_CACHE_SECONDS.
_LOCALE_IDS: dict[str, tuple[int, float]] = {}
LOCALE_CACHE_SECONDS = 60


def active_locale_id() -> int:
    """``Locale.get_active().pk`` (the active language's locale, else the default),
    without a query per request."""
    language = translation.get_language() or ""
    now = time.monotonic()
    known = _LOCALE_IDS.get(language)
    if known is not None and known[1] > now:
        return known[0]
    locale_id = Locale.get_active().pk
    _LOCALE_IDS[language] = (locale_id, now + LOCALE_CACHE_SECONDS)
    return locale_id


@receiver(post_save, sender=Locale)
@receiver(post_delete, sender=Locale)
def _forget_locale_ids(**kwargs):
    _LOCALE_IDS.clear()


def _in_locale(queryset, locale):
    locale_id = locale.pk if locale is not None else active_locale_id()
    return queryset.filter(locale_id=locale_id)


def _articles(user, *, category, locale, public):
    articles = _in_locale(visible_articles(user, public=public), locale)
    if category is not None:
        articles = articles.child_of(category)
    return articles


# Per process: locale id → its language code (for stop words and stemming).
_LANGUAGES: dict[int, str] = {}
# Per process: locale id → the inverted index of that locale's articles (kb.ranking),
# brought up to date on every search from the (id, last published) pairs it reads.
_INDEXES: dict[int, ranking.Index] = {}
_INDEX_LOCK = threading.Lock()


def _language(locale_id: int) -> str:
    code = _LANGUAGES.get(locale_id)
    if code is None:
        code = (
            Locale.objects.filter(pk=locale_id)
            .values_list("language_code", flat=True)
            .first()
            or translation.get_language()
        )
        _LANGUAGES[locale_id] = code
    return code


def _index_rows(articles) -> tuple[ranking.Index, list[int]]:
    """The index of ``articles``' locale, up to date for them, and their ids: one
    statement when nothing changed, one more (with tags) for articles published since."""
    rows = list(articles.values_list("pk", "locale_id", "last_published_at"))
    if not rows:
        return None, []
    locale_id = rows[0][1]
    with _INDEX_LOCK:
        index = _INDEXES.get(locale_id)
        if index is None:
            index = _INDEXES[locale_id] = ranking.Index(_language(locale_id))
        stale = [pk for pk, _, stamp in rows if index.stamps.get(pk) != stamp]
        if stale:
            for article in (
                ArticlePage.objects.filter(pk__in=stale)
                .only("pk", "title", "summary", "body", "last_published_at")
                .prefetch_related("tags")
            ):
                index.add(
                    article.pk,
                    {
                        "title": article.title,
                        "tags": " ".join(tag.name for tag in article.tags.all()),
                        "summary": article.summary,
                        "body": article_text(article),
                    },
                    stamp=article.last_published_at,
                )
    return index, [pk for pk, _, _ in rows]


def _ranked_ids(articles, query: str) -> list[int]:
    index, ids = _index_rows(articles)
    if index is None:
        return []
    with _INDEX_LOCK:  # another thread may be adding articles to it
        return index.rank(query, ids)


def search_articles(user, query: str, *, category=None, locale=None):
    """Search over the live articles ``user`` may read, as ``ArticleHits`` (sliceable,
    countable), best match first; an empty query gives no results.

    A question in words, not a keyword list: stop words are ignored, words stemmed (or
    matched by prefix), articles with every word come first, then those with some,
    each by relevance (``kb.ranking``). ``category`` (a CategoryPage) narrows to its
    articles; ``locale`` defaults to the active language's locale."""
    return search_article_hits(user, query, category=category, locale=locale)


def closest_articles(user, query: str, *, limit: int = 3, locale=None) -> list:
    """For a question nothing answered: the readable articles whose titles look most
    like it (PostgreSQL: ``pg_trgm`` word similarity; elsewhere a character match)."""
    query = search_text(query)
    if not query:
        return []
    articles = _in_locale(visible_articles(user), locale)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import TrigramWordSimilarity

        return list(
            articles.annotate(similar=TrigramWordSimilarity(query, "title"))
            .filter(similar__gt=0.2)
            .order_by("-similar", "title")[:limit]
        )
    index, ids = _index_rows(articles)
    if index is None:
        return []
    with _INDEX_LOCK:
        closest = index.closest(query, ids, limit)
    found = articles.in_bulk(closest)
    return [found[pk] for pk in closest if pk in found]


class ArticleHits:
    """The results of one search, for a paginated list: ``len()`` / ``count()`` and
    slices of articles, best match first.

    The full-text match is the costly part of a search (PostgreSQL matches every index
    entry), so it runs once: the ids of all matches, in rank order, in one statement
    (a knowledge base has a few thousand articles at most). A slice loads its articles
    in one more statement, from the same visible-articles queryset."""

    def __init__(self, articles, ids: list[int]):
        self._articles = articles
        self.ids = ids

    def count(self) -> int:
        return len(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        ids = self.ids[index]
        if not ids:
            return []
        found = self._articles.in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]


def search_article_hits(
    user, query: str, *, category=None, locale=None, public=None
) -> ArticleHits:
    """``search_articles`` for the search page: the same matches in the same order, as
    ``ArticleHits`` (counted and paged with one full-text pass). ``public`` is a
    ``kb.permissions.public_q()`` the request already has."""
    from .permissions import allowed_audiences

    articles = _articles(user, category=category, locale=locale, public=public)
    text = search_text(query)

    def match_ids() -> list[int]:
        return _ranked_ids(articles, text) if text else []

    key = (
        search_text(query),
        locale.pk if locale is not None else active_locale_id(),
        tuple(allowed_audiences(user)),
        category.pk if category is not None else None,
    )
    return ArticleHits(articles, _match_ids_cache.get(key, match_ids))


class _MatchIdsCache:
    """The ids a full-text query matched, by query, locale, audiences and category,
    for the current generation of the knowledge base (``kb.page_cache``: any change
    to a page, its privacy or its place starts a new one), kept in the process: the
    result cache of a search engine (Solr's queryResultCache, invalidated on commit).
    The page's articles are still loaded, checked and rendered for every request, and
    every search is still counted. On only where the page cache is (a shared cache)."""

    size = 512

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: collections.OrderedDict = collections.OrderedDict()

    def get(self, key, compute):
        from . import page_cache

        if not page_cache.timeout():
            return compute()
        key = (page_cache.current_generation(), *key)
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return list(self.entries[key])
        ids = compute()
        with self.lock:
            self.entries[key] = tuple(ids)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return ids


_match_ids_cache = _MatchIdsCache()


def suggest_articles(user, query: str, limit: int = 5, *, locale=None) -> list:
    """The best few readable articles for a draft ticket subject (deflection): the
    search's ranking; if nothing matches, the last word is treated as unfinished and
    autocompleted."""
    query = search_text(query)
    if len(query) < 2:
        return []
    limit = max(1, min(int(limit), 20))
    articles = _in_locale(visible_articles(user), locale)
    found = search_article_hits(user, query, locale=locale)[:limit]
    if not found:
        found = list(articles.autocomplete(query)[:limit])
    return found


def _search_keys(day, index) -> tuple[str, str, str]:
    base = f"kb:search:{day.isoformat()}:{index}"
    return f"{base}:q", f"{base}:hits", f"{base}:misses"


def _search_slot(normalised: str, day) -> int:
    """The slot number of ``normalised`` for ``day``: slots are numbered by an atomic
    ``incr`` so the flush job can enumerate them (the cache cannot list keys)."""
    digest = hashlib.sha256(normalised.encode()).hexdigest()  # keys: no spaces
    slot_key = f"kb:search:slot:{day.isoformat()}:{digest}"
    index = cache.get(slot_key)
    if index is not None:
        return index
    index = add_to(f"kb:search:n:{day.isoformat()}", timeout=COUNTER_TIMEOUT)
    if not cache.add(slot_key, index, COUNTER_TIMEOUT):
        return cache.get(slot_key, index)  # another request registered it first
    cache.set(_search_keys(day, index)[0], normalised, COUNTER_TIMEOUT)
    return index


def record_search(query: str, *, result_count: int, day=None) -> None:
    """Count a search for Wagtail's query log (popular searches, promotions) and, when
    it found nothing, for the unanswered-searches list editors review — in the cache;
    ``kb.tasks.flush_counters`` stores them."""
    from wagtail.search.utils import normalise_query_string

    query = _plain(query)[:QUERY_MAX_LENGTH]
    if not query:
        return
    normalised = normalise_query_string(query)
    if not normalised:
        return
    day = day or timezone.localdate()
    if not counting_in_cache():
        store_search_hits(normalised, day, 1, 0 if result_count else 1)
        return
    # Added up in the process like article views (``flush_view_buffer``).
    _buffer(_search_buffer, (normalised, day, "hits"))
    if not result_count:
        _buffer(_search_buffer, (normalised, day, "misses"))


def store_search_hits(normalised: str, day, hits: int, misses: int) -> None:
    """Add counted searches to Wagtail's daily hits and to ``UnansweredSearch``
    (``last_searched_at`` is the flush time, at most a minute late)."""
    from wagtail.contrib.search_promotions.models import Query, QueryDailyHits

    if hits:
        logged = Query.get(normalised)
        daily, _created = QueryDailyHits.objects.get_or_create(query=logged, date=day)
        QueryDailyHits.objects.filter(pk=daily.pk).update(hits=F("hits") + hits)
    if not misses:
        return
    now = timezone.now()
    updated = UnansweredSearch.objects.filter(query_string=normalised).update(
        hits=F("hits") + misses, last_searched_at=now
    )
    if not updated:
        try:
            with transaction.atomic():
                UnansweredSearch.objects.create(
                    query_string=normalised, hits=misses, last_searched_at=now
                )
        except IntegrityError:
            UnansweredSearch.objects.filter(query_string=normalised).update(
                hits=F("hits") + misses, last_searched_at=now
            )


def _take(key: str, value) -> int:
    """Subtract what was read, so hits counted meanwhile stay for the next flush."""
    if not value:
        return 0
    try:
        cache.decr(key, value)
    except ValueError:  # expired: nothing left to subtract from
        pass
    return value


def flush_counters(*, days=None) -> dict[str, int]:
    """Move the cached view and search counters of today and yesterday into the
    database. Safe to run twice: a lock keeps two flushes from overlapping, and each
    counter is decremented by exactly the amount stored. Returns totals stored."""
    today = timezone.localdate()
    days = days or (today - datetime.timedelta(days=1), today)
    stored = {"views": 0, "searches": 0}
    flush_view_buffer()
    if not cache.add("kb:flush:lock", 1, FLUSH_LOCK_TIMEOUT):
        return stored
    try:
        article_ids = list(ArticlePage.objects.values_list("pk", flat=True))
        for day in days:
            keys = {_views_key(pk, day): pk for pk in article_ids}
            for key, value in cache.get_many(list(keys)).items():
                views = _take(key, value)
                if views:
                    store_article_views(keys[key], day, views)
                    stored["views"] += views
            count = cache.get(f"kb:search:n:{day.isoformat()}") or 0
            for index in range(1, count + 1):
                q_key, hits_key, misses_key = _search_keys(day, index)
                got = cache.get_many([q_key, hits_key, misses_key])
                normalised = got.get(q_key)
                if not normalised:
                    continue
                hits = _take(hits_key, got.get(hits_key))
                misses = _take(misses_key, got.get(misses_key))
                if hits or misses:
                    store_search_hits(normalised, day, hits, misses)
                    stored["searches"] += hits
    finally:
        cache.delete("kb:flush:lock")
    return stored
