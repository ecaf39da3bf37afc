"""What readers find in the knowledge base: search, suggestions for a draft ticket,
the closest titles, popular and related articles, the active language's locale. Every
surface (KB pages, the search page, the portal, GraphQL, ticket deflection) asks these;
what a reader may see is decided by ``kb.permissions``, what is remembered between
requests by ``kb.caching``."""

from datetime import timedelta
from functools import cached_property
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from wagtail.models import Locale

from portal.sql import KeptStatement, ValueList

from . import caching, ranking
from .highlight import article_text
from .models import ArticlePage, ArticlePageTag, KnowledgeBasePage
from .permissions import (
    allowed_audiences,
    public_q,
    readable_articles,
    visible_articles,
    visible_categories,
)
from .text import QUERY_MAX_LENGTH, search_text

__all__ = ["QUERY_MAX_LENGTH", "search_text"]  # re-exported: the search's own limits

POPULAR_DAYS = 30
POPULAR_LIMIT = 5
RELATED_LIMIT = 5


def active_locale_id() -> int:
    """``Locale.get_active().pk`` (the active language's locale, else the default),
    without a query per request (``kb.caching``'s locale ids)."""
    return caching.remembered(
        caching.locale_ids,
        translation.get_language() or "",
        lambda: Locale.get_active().pk,
    )


def _in_locale(queryset, locale):
    locale_id = locale.pk if locale is not None else active_locale_id()
    return queryset.filter(locale_id=locale_id)


def popular_articles(
    user, *, within=None, limit=POPULAR_LIMIT, days=POPULAR_DAYS, public=None
):
    """The articles ``user`` may read that were read most in the last ``days`` days,
    most read first (ties by title); an article nobody read then is not popular.
    ``within``: only the articles under this page (the KB index, in its own
    language); by default the active language's articles. ``public``: a
    ``kb.permissions.public_q()`` the request already has."""
    articles = visible_articles(user, public=public)
    if within is not None:
        articles = articles.descendant_of(within)
    else:
        # Read each time, as the portal dashboard's other lists do: its query-count
        # test compares two requests, and a cached locale would make them differ.
        articles = articles.filter(locale_id=Locale.get_active().pk)
    since = timezone.localdate() - timedelta(days=days)
    return list(
        articles.annotate(
            recent_views=Coalesce(
                Sum("daily_views__views", filter=Q(daily_views__day__gte=since)), 0
            )
        )
        .filter(recent_views__gt=0)
        .order_by("-recent_views", "title")[:limit]
    )


def related_articles(article, user, *, limit=RELATED_LIMIT) -> list:
    """Hand-picked articles first, then ones sharing tags or the article's category,
    among those ``user`` may read in the article's language."""
    visible = visible_articles(user).filter(locale_id=article.locale_id)
    picked_ids = [link.article_id for link in article.related_links.all()]
    picked = {a.pk: a for a in visible.filter(pk__in=picked_ids)}
    related = [picked[pk] for pk in picked_ids if pk in picked]
    remaining = limit - len(related)
    if remaining <= 0:
        return related[:limit]
    tag_ids = [tag.pk for tag in article.tags.all()]
    shared_tags = (
        ArticlePageTag.objects.filter(content_object=OuterRef("pk"), tag__in=tag_ids)
        .order_by()
        .values("content_object")
        .annotate(n=Count("pk"))
        .values("n")
    )
    parent_path = article.path[: -article.steplen]
    automatic = (
        visible.exclude(pk__in=[article.pk, *picked_ids])
        .annotate(
            shared=Coalesce(Subquery(shared_tags, output_field=IntegerField()), 0)
        )
        .filter(Q(shared__gt=0) | Q(path__startswith=parent_path, depth=article.depth))
        .order_by("-shared", "title")[:remaining]
    )
    return related + list(automatic)


def _articles(user, *, category, locale, public):
    articles = _in_locale(visible_articles(user, public=public), locale)
    if category is not None:
        articles = articles.child_of(category)
    return articles


def _language(locale_id: int) -> str:
    return caching.remembered(
        caching.locale_languages,
        locale_id,
        lambda: (
            Locale.objects.filter(pk=locale_id)
            .values_list("language_code", flat=True)
            .first()
            or translation.get_language()
        ),
    )


def _index_rows(articles) -> tuple[ranking.Index, list[int]]:
    """The index of ``articles``' locale, up to date for them, and their ids: one
    statement when nothing changed, one more (with tags) for articles published since."""
    rows = list(articles.values_list("pk", "locale_id", "last_published_at"))
    if not rows:
        return None, []
    locale_id = rows[0][1]
    language = _language(locale_id)
    with caching.search_index_lock:
        index = caching.search_indexes.get(locale_id)
        if index is None:
            index = caching.search_indexes[locale_id] = ranking.Index(language)
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
    with caching.search_index_lock:  # another thread may be adding articles to it
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
        # Imported here: django.contrib.postgres needs psycopg, absent on SQLite-only
        # installs.
        from django.contrib.postgres.search import TrigramWordSimilarity

        return list(
            articles.annotate(similar=TrigramWordSimilarity(query, "title"))
            .filter(similar__gt=0.2)
            .order_by("-similar", "title")[:limit]
        )
    index, ids = _index_rows(articles)
    if index is None:
        return []
    with caching.search_index_lock:
        closest = index.closest(query, ids, limit)
    found = articles.in_bulk(closest)
    return [found[pk] for pk in closest if pk in found]


class ArticleRow(NamedTuple):
    """An article as the search page lists it, read as stored: ``body`` is the
    StreamField's JSON text."""

    pk: int
    locale_id: int
    title: str
    url_path: str
    summary: str
    body: str

    def article(self) -> ArticlePage:
        """The article as ``.only()`` of these columns gives it (Django's own
        ``from_db``), for what needs the page itself: its URL or its text when they are
        not remembered."""
        pk, locale_id, title, url_path, summary, body = self
        return ArticlePage.from_db(
            DEFAULT_DB_ALIAS,
            ["id", "locale_id", "title", "url_path", "page_ptr_id", "summary", "body"],
            [pk, locale_id, title, url_path, pk, summary, body],
        )


ROW_COLUMNS = ("pk", "locale_id", "title", "url_path", "summary", "body")


class ArticleHits:
    """The results of one search, for a paginated list: ``len()`` / ``count()`` and
    slices of articles, best match first.

    The full-text match is the costly part of a search (PostgreSQL matches every index
    entry), so it runs once: the ids of all matches, in rank order, in one statement
    (a knowledge base has a few thousand articles at most). A slice loads its articles
    in one more statement, from the same visible-articles queryset; ``rows`` reads a
    page of them as the search page lists them."""

    def __init__(self, articles, ids: list[int], reader: tuple):
        self._made = articles  # a function giving the visible-articles queryset
        self.ids = ids
        self._reader = reader  # (audiences, locale id, category, public)

    @cached_property
    def _articles(self):
        return self._made()

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

    def rows(self, ids: list[int]) -> list[ArticleRow]:
        """The articles of ``ids`` (a page of ``self.ids``) that the reader may see
        now, in that order, as ``ArticleRow``s: the same condition as the slices, its
        statement kept for the knowledge base's generation while the page cache is on
        (``kb.caching.search_reads``; the view restrictions of the generation are in
        it), written anew each time otherwise."""
        if not ids:
            return []
        audiences, locale_id, category, public = self._reader
        if public is None:
            public = public_q()

        def statement():
            def build(locale, ids):
                articles = readable_articles(audiences, public=public)
                articles = articles.filter(locale_id=locale)
                if category is not None:
                    articles = articles.child_of(category)
                return (
                    articles.filter(pk__in=ValueList(ids, output_field=IntegerField()))
                    .order_by()
                    .values_list(*ROW_COLUMNS)
                )

            return KeptStatement(build, ("locale", "ids"), lists=("ids",))

        key = (audiences, locale_id, category.pk if category is not None else None)
        read = caching.remembered_while_shared(caching.search_reads, key, statement)
        found = {row[0]: row for row in read.rows(locale=locale_id, ids=ids)}
        return [ArticleRow(*found[pk]) for pk in ids if pk in found]


def search_breadcrumbs(locale_id: int) -> list:
    """The search page's breadcrumbs: the live KB index of the locale and its
    ancestors below the tree's root (none without an index). Remembered per locale
    until the knowledge base changes (``kb.caching``: any page saved, moved or
    deleted starts a new generation) while the page cache is on."""

    def compute() -> list:
        kb_index = KnowledgeBasePage.objects.live().filter(locale_id=locale_id).first()
        return list(kb_index.get_ancestors(inclusive=True)[1:]) if kb_index else []

    return list(
        caching.remembered_while_shared(caching.search_crumbs, locale_id, compute)
    )


def search_categories(locale_id: int, *, public=None) -> list:
    """The categories the search page offers as a filter: the live public categories
    of the locale, in tree order. Remembered per locale until the knowledge base
    changes while the page cache is on (as ``search_breadcrumbs``). ``public``: a
    ``kb.permissions.public_q()`` the request already has."""

    def compute() -> list:
        categories = visible_categories(public=public).filter(locale_id=locale_id)
        return list(categories.order_by("path"))

    return list(
        caching.remembered_while_shared(caching.search_categories, locale_id, compute)
    )


def search_article_hits(
    user, query: str, *, category=None, locale=None, public=None
) -> ArticleHits:
    """``search_articles`` for the search page: the same matches in the same order, as
    ``ArticleHits`` (counted and paged with one full-text pass). ``public`` is a
    ``kb.permissions.public_q()`` the request already has."""
    text = search_text(query)
    locale_id = locale.pk if locale is not None else active_locale_id()
    audiences = tuple(allowed_audiences(user))

    def articles():
        return _articles(user, category=category, locale=locale, public=public)

    def match_ids() -> list[int]:
        return _ranked_ids(articles(), text) if text else []

    key = (text, locale_id, audiences, category.pk if category is not None else None)
    return ArticleHits(
        articles,
        caching.matched_ids(key, match_ids),
        (audiences, locale_id, category, public),
    )


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
