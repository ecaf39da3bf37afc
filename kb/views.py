"""Knowledge-base views that are not pages: search, suggestions (deflection) and the
feedback form's target. Thin: they parse input, ask ``kb.queries``, ``kb.counters``
or ``kb.services``, render."""

from typing import NamedTuple

from django.contrib import messages
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from wagtail.models import Locale

from . import caching, counters, queries, services
from .forms import FeedbackForm, SearchForm
from .highlight import highlight_snippet, stored_article_text
from .models import ArticlePage
from .permissions import can_view_article, public_q, visible_categories

PER_PAGE = 10
MAX_ID = 2**63 - 1


@require_GET
def search(request):
    form = SearchForm(request.GET)
    query, category = "", None
    public = public_q()  # the view restrictions, read once for articles and categories
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        category_id = form.cleaned_data["category"]
        if category_id:
            category = visible_categories(public=public).filter(pk=category_id).first()
    locale_id = queries.active_locale_id()
    matches = queries.search_article_hits(
        request.user,
        query,
        category=category,
        locale=Locale(pk=locale_id),
        public=public,
    )
    paginator = Paginator(matches.ids, PER_PAGE)
    try:
        page_obj = paginator.page(request.GET.get("page") or 1)
    except (EmptyPage, PageNotAnInteger):
        page_obj = paginator.page(1)
    caching.site_for(request)  # the results' and breadcrumbs' links ask for it
    hits = _hits(request, matches.rows(page_obj.object_list), query)
    if query and page_obj.number == 1:
        counters.record_search(query, result_count=paginator.count)
    closest = []
    if query and not paginator.count:
        closest = queries.closest_articles(
            request.user, query, locale=Locale(pk=locale_id)
        )
    crumbs = queries.search_breadcrumbs(locale_id)
    return TemplateResponse(
        request,
        "kb/search.html",
        {
            "form": form,
            "query": query,
            "category": category,
            "categories": queries.search_categories(locale_id, public=public),
            "page_obj": page_obj,
            "hits": hits,
            "closest": closest,
            "crumbs": crumbs,
        },
    )


class SearchHit(NamedTuple):
    """One result as the search page shows it."""

    article_id: int
    title: str
    url: str
    snippet: str


def _hits(request, rows, query: str) -> list[SearchHit]:
    """The page's results: links remembered per page (``kb.caching.page_urls_of``),
    snippets per text and query (``kb.highlight``); an article made from its row only
    for what is not remembered."""
    urls = caching.page_urls_of(
        request, [(row.pk, row.url_path, row.locale_id, row.article) for row in rows]
    )
    return [
        SearchHit(
            row.pk,
            row.title,
            url,
            highlight_snippet(
                stored_article_text(row.pk, row.summary, row.body, row.article), query
            ),
        )
        for row, url in zip(rows, urls, strict=True)
    ]


@require_GET
def suggest(request):
    """JSON for the new-ticket form: ``{"results": [{"title", "url", "summary"}]}``."""
    query = request.GET.get("q", "")
    try:
        limit = int(request.GET.get("limit", 5))
    except ValueError:
        return JsonResponse({"error": _("limit must be a number.")}, status=400)
    articles = queries.suggest_articles(request.user, query, limit)
    return JsonResponse(
        {
            "results": [
                {
                    "title": article.title,
                    "url": article.get_url(request),
                    "summary": article.summary,
                }
                for article in articles
            ]
        }
    )


@require_POST
def feedback(request, article_id):
    """The "Was this helpful?" form posts here; we redirect back with a message."""
    if article_id > MAX_ID:
        raise Http404  # SQLite cannot even compare such a number with a page id
    article = ArticlePage.objects.filter(pk=article_id).first()
    if article is None or not can_view_article(request.user, article):
        raise Http404
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Please choose Yes or No (comments up to 1000 characters).")
        )
        return redirect(article.get_url(request) + "#feedback")
    # An anonymous reader's vote is keyed by their session: make sure it has one.
    request.session["kb_voter"] = True
    if not request.session.session_key:
        request.session.save()
    try:
        services.submit_feedback(
            article,
            user=request.user,
            session_key=request.session.session_key,
            helpful=form.cleaned_data["helpful"],
            comment=form.cleaned_data["comment"],
        )
    except services.FeedbackError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you for your feedback."))
    return redirect(article.get_url(request) + "#feedback")
