"""Article views and searches, counted on the request path and stored by a job.

How a count travels (bench FINDINGS KB-1/KB-3: a committed UPDATE of one hot row per
hit capped the article page at ~230 requests/s):

1. ``record_article_view`` / ``record_search`` add it to this process's ``tally``
   (``portal.counters.Tally``), which hands the sums to the shared cache (one atomic
   ``portal.counters.add_to`` per counter) at most every ``TALLY_SECONDS``, on the
   flush job, and at process exit;
2. ``flush_counters`` (the ``kb.tasks.flush_counters`` schedule, every minute) moves
   the cached counts of today and yesterday into the database, subtracting exactly
   what it stored, under a lock so two flushes never overlap.

With a per-process cache (no ``REDIS_URL``) the job worker could not see the web
processes' counters, so counts are written to the database directly
(``counting_in_cache``). A crash loses at most the last minute of counts, acceptable
for popularity rankings.
"""

import datetime
import hashlib

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from wagtail.contrib.search_promotions.models import Query, QueryDailyHits
from wagtail.search.utils import normalise_query_string

from portal.cache import shared_or
from portal.counters import Tally, add_to

from .models import ArticleDailyViews, ArticlePage, UnansweredSearch
from .text import QUERY_MAX_LENGTH, plain

COUNTER_TIMEOUT = 2 * 24 * 3600  # long enough for yesterday's counts to be flushed
FLUSH_LOCK_TIMEOUT = 55
TALLY_SECONDS = 5


def counting_in_cache() -> bool:
    """Count in the cache only when the cache is shared with the job worker.
    ``settings.KB_COUNT_IN_CACHE`` (True/False) overrides the guess."""
    return shared_or("KB_COUNT_IN_CACHE")


def _views_key(article_id, day) -> str:
    return f"kb:views:{article_id}:{day.isoformat()}"


def _search_keys(day, index) -> tuple[str, str, str]:
    base = f"kb:search:{day.isoformat()}:{index}"
    return f"{base}:q", f"{base}:hits", f"{base}:misses"


def _bump(key: str, delta: int = 1) -> int:
    """Atomically add ``delta`` to a counter; returns the new value."""
    return add_to(key, delta, timeout=COUNTER_TIMEOUT)


def _to_shared_cache(counts: dict) -> None:
    """``tally``'s delivery: ``("view", article id, day)`` and ``("search", phrase,
    day, "hits" | "misses")`` sums, one increment each."""
    for key, count in counts.items():
        if key[0] == "view":
            _bump(_views_key(key[1], key[2]), count)
        else:
            _kind, normalised, day, which = key
            _q, hits_key, misses_key = _search_keys(day, _search_slot(normalised, day))
            _bump(hits_key if which == "hits" else misses_key, count)


tally = Tally(_to_shared_cache, seconds=TALLY_SECONDS)


def flush_view_buffer() -> int:
    """Move this process's tally to the shared cache now; returns how many views."""
    return sum(count for key, count in tally.flush().items() if key[0] == "view")


def record_article_view(article, *, day=None) -> None:
    """Count one view of ``article`` on ``day`` (today); no database write on the
    request path when counting in the cache."""
    record_article_view_id(article.pk, day=day)


def record_article_view_id(article_id, *, day=None) -> None:
    """``record_article_view`` by id, for pages answered from ``kb.page_cache``."""
    day = day or timezone.localdate()
    if not counting_in_cache():
        store_article_views(article_id, day, 1)
        return
    tally.add(("view", article_id, day))


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
    it found nothing, for the unanswered-searches list editors review."""
    query = plain(query)[:QUERY_MAX_LENGTH]
    if not query:
        return
    normalised = normalise_query_string(query)
    if not normalised:
        return
    day = day or timezone.localdate()
    if not counting_in_cache():
        store_search_hits(normalised, day, 1, 0 if result_count else 1)
        return
    tally.add(("search", normalised, day, "hits"))
    if not result_count:
        tally.add(("search", normalised, day, "misses"))


def store_search_hits(normalised: str, day, hits: int, misses: int) -> None:
    """Add counted searches to Wagtail's daily hits and to ``UnansweredSearch``
    (``last_searched_at`` is the flush time, at most a minute late)."""
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
