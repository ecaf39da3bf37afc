"""What the knowledge base's pages check and show when they are served: kb's HTML
surface, kept out of ``kb.models`` so that the page models import nothing above them.

Two Wagtail hooks connect it (registered in ``kb.wagtail_hooks``):

* ``on_serve_page`` (``serve``): wraps Wagtail's serving, inside Wagtail's own
  view-restriction check. An article whose audience the reader is not in is a 404; a
  GET of an article counts a view (``kb.counters``); an anonymous reader's answer may
  be stored by the page cache (``kb.caching.mark_cacheable``; articles only when
  public). Previews do not pass through it (Wagtail serves them directly).
* ``kb_page_context`` (``extend_context``): the hook each KB page model's
  ``get_context`` calls, for previews as for readers. It adds the listings that
  depend on who reads: the index's ``categories`` and ``popular_articles``, a
  category's ``articles`` page, an article's ``related_articles`` (the same for
  every reader of the same audiences: a page fragment, ``kb.caching.fragment``, as
  is their rendered list, named by ``reader_audiences``).
"""

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count
from django.db.models.functions import Substr
from django.http import Http404

from . import counters, queries
from .caching import fragment, fragment_key, mark_cacheable
from .models import ArticlePage, Audience, CategoryPage, KnowledgeBasePage
from .permissions import (
    allowed_audiences,
    audience_allows,
    public_q,
    visible_articles,
    visible_categories,
)


def serve(serve_page):
    """The ``on_serve_page`` hook: ``serve_page`` with the KB's checks in front."""

    def inner(page, request, serve_args, serve_kwargs):
        if isinstance(page, ArticlePage):
            if not audience_allows(request.user, page.audience):
                raise Http404
            if request.method == "GET":
                counters.record_article_view(page)
            if page.audience == Audience.PUBLIC:
                mark_cacheable(request, article_id=page.pk)
        elif isinstance(page, (KnowledgeBasePage, CategoryPage)):
            mark_cacheable(request)
        return serve_page(page, request, serve_args, serve_kwargs)

    return inner


def extend_context(page, request, context: dict) -> None:
    """The ``kb_page_context`` hook: the reader-dependent listings of a KB page."""
    if isinstance(page, ArticlePage):
        # the audiences name the rendered related links' fragment (article_page.html)
        context["reader_audiences"] = allowed_audiences(request.user)
        context["related_articles"] = related_articles(page, request)
    elif isinstance(page, CategoryPage):
        context["articles"] = category_articles(page, request)
    elif isinstance(page, KnowledgeBasePage):
        public = public_q()  # the view restrictions, read once for the three lists
        context["categories"] = index_categories(page, request.user, public=public)
        context["popular_articles"] = queries.popular_articles(
            request.user, within=page, public=public
        )


def related_articles(page, request) -> list:
    """The article's related articles for this reader: the same for every reader of
    the same audiences, so kept as a page fragment (``kb.caching.fragment``)."""
    user = request.user
    key = fragment_key("related", page, allowed_audiences(user))
    return fragment(request, key, lambda: queries.related_articles(page, user))


def index_categories(index, user, *, public=None) -> list:
    """The index's categories that hold an article ``user`` may read, in tree order,
    each with its ``article_count``."""
    category_path_length = len(index.path) + index.steplen
    counts = dict(
        visible_articles(user, public=public)
        .descendant_of(index)
        .annotate(category_path=Substr("path", 1, category_path_length))
        .order_by()
        .values_list("category_path")
        .annotate(n=Count("pk"))
    )
    categories = list(
        visible_categories(
            CategoryPage.objects.child_of(index), public=public
        ).order_by("path")
    )
    for category in categories:
        category.article_count = counts.get(category.path, 0)
    return [c for c in categories if c.article_count]


def category_articles(category, request):
    """The page of the category's readable articles asked for (``?page=``), by
    title; the first page when the number is not one."""
    articles = visible_articles(request.user).child_of(category).order_by("title")
    paginator = Paginator(articles, category.per_page)
    try:
        return paginator.page(request.GET.get("page") or 1)
    except (EmptyPage, PageNotAnInteger):
        return paginator.page(1)
