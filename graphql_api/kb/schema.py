from collections.abc import Iterable

import strawberry
import strawberry_django
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext as _
from strawberry.types import Info
from wagtail.models import Locale

from kb import queries, services
from kb.models import ArticlePage
from kb.permissions import visible_articles, visible_categories

from ..context import get_user
from ..pagination import (
    LIST_ARGUMENTS_HELP,
    MAX_LIST_SIZE,
    CappedConnection,
    capped_list,
)
from ..validation import as_mutation_error, clean_slug, clean_text
from .types import ArticleFilter, ArticleType, CategoryType, SubmitArticleFeedbackInput

SEARCH_MAX_RESULTS = 500


def _visible(info: Info):
    return visible_articles(get_user(info)).filter(locale_id=Locale.get_active().pk)


@strawberry.type
class Query:
    @strawberry_django.connection(
        CappedConnection[ArticleType],
        description="Articles the caller may read, by title (max 100 a page).",
    )
    def articles(
        self, info: Info, filters: ArticleFilter | None = None
    ) -> Iterable[ArticlePage]:
        articles = _visible(info)
        if filters is not None:
            if filters.category is not None:
                category = (
                    visible_categories()
                    .filter(slug=clean_slug(filters.category, "category"))
                    .first()
                )
                if category is None:
                    return articles.none()
                articles = articles.child_of(category)
            if filters.tag is not None:
                articles = articles.filter(
                    tags__name=clean_text(filters.tag, "tag", max_length=100)
                )
            if filters.audience is not None:
                articles = articles.filter(audience=filters.audience.value)
        return articles.order_by("title", "pk")

    @strawberry_django.field(description="A readable article by slug, else null.")
    def article(self, info: Info, slug: str) -> ArticleType | None:
        return _visible(info).filter(slug=clean_slug(slug, "slug"))

    @strawberry_django.connection(
        CappedConnection[ArticleType],
        description=f"Full-text search over readable articles, best match first "
        f"(at most {SEARCH_MAX_RESULTS} results).",
    )
    def search_articles(self, info: Info, query: str) -> Iterable[ArticlePage]:
        text = clean_text(query, "query", max_length=queries.QUERY_MAX_LENGTH)
        results = queries.search_articles(get_user(info), text)
        ids = [page.pk for page in results[:SEARCH_MAX_RESULTS]]
        if not ids:
            return ArticlePage.objects.none()
        rank = Case(
            *(When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)),
            output_field=IntegerField(),
        )
        return (
            ArticlePage.objects.filter(pk__in=ids).alias(_rank=rank).order_by("_rank")
        )

    @strawberry_django.field(
        description=f"Live knowledge-base categories, in site order, {LIST_ARGUMENTS_HELP}."
    )
    def categories(
        self, first: int = MAX_LIST_SIZE, offset: int = 0
    ) -> list[CategoryType]:
        return capped_list(visible_categories().order_by("path"), first, offset)


@strawberry.type
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Vote on an article (signed-in callers; voting again changes "
        "the vote).",
    )
    def submit_article_feedback(
        self, info: Info, input: SubmitArticleFeedbackInput
    ) -> ArticleType:
        with as_mutation_error(services.FeedbackError):
            user = get_user(info, required=True)
            slug = clean_slug(input.article_slug, "articleSlug")
            article = _visible(info).filter(slug=slug).first()
            if article is None:
                raise ArticlePage.DoesNotExist(_("Article not found."))
            services.submit_feedback(
                article,
                user=user,
                session_key="",
                helpful=input.helpful,
                comment=input.comment or "",
            )
        return article
