"""Knowledge-base types. What is visible is decided by ``kb.permissions`` alone; these
types only shape what a visible article looks like."""

from datetime import datetime

import strawberry
import strawberry_django
from django.db.models import Count, Q
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from kb.models import ArticlePage, Audience, CategoryPage
from kb.permissions import visible_categories

from ..choices import enum_of

# The model's choices (names and values), not a copy of them.
ArticleAudience = enum_of(Audience, "ArticleAudience")


def _request(info: Info):
    return info.context.request


def _categories_by_path(info: Info) -> dict:
    """Every live category, loaded once per request: an article's category is its
    parent page, found by path prefix instead of one query per article."""
    cache = info.context.__dict__.setdefault("_kb_categories", None)
    if cache is None:
        cache = {c.path: c for c in visible_categories()}
        info.context.__dict__["_kb_categories"] = cache
    return cache


@strawberry_django.type(CategoryPage, name="Category")
class CategoryType:
    title: str
    slug: str
    intro: str

    @strawberry_django.field(
        only=["url_path"], description="Absolute URL of the category page."
    )
    def url(self, info: Info) -> str | None:
        return self.get_full_url(_request(info))


@strawberry_django.type(ArticlePage, name="Article")
class ArticleType(relay.Node):
    title: str
    slug: str
    summary: str

    @strawberry_django.field(only=["url_path"], description="Absolute URL.")
    def url(self, info: Info) -> str | None:
        return self.get_full_url(_request(info))

    @strawberry_django.field(
        only=["body"],
        description="The StreamField body: a list of {type, value, id} blocks.",
    )
    def body(self) -> JSON:
        return self.body.stream_block.get_api_representation(self.body)

    @strawberry_django.field(only=["path", "depth"])
    def category(self, info: Info) -> CategoryType | None:
        return _categories_by_path(info).get(self.path[: -ArticlePage.steplen])

    @strawberry_django.field(prefetch_related=["tags"])
    def tags(self) -> list[str]:
        return sorted(tag.name for tag in self.tags.all())

    @strawberry_django.field(only=["audience"])
    def audience(self) -> ArticleAudience:
        return ArticleAudience(self.audience)

    @strawberry_django.field(
        only=["last_published_at", "latest_revision_created_at"],
        description="When the live version was published.",
    )
    def updated_at(self) -> datetime | None:
        return self.last_published_at or self.latest_revision_created_at

    @strawberry_django.field(
        annotate={"_helpful": Count("feedback", filter=Q(feedback__helpful=True))}
    )
    def helpful_count(self) -> int:
        if hasattr(self, "_helpful"):
            return self._helpful
        return self.feedback.filter(
            helpful=True
        ).count()  # not fetched by the optimizer

    @strawberry_django.field(
        annotate={"_not_helpful": Count("feedback", filter=Q(feedback__helpful=False))}
    )
    def not_helpful_count(self) -> int:
        if hasattr(self, "_not_helpful"):
            return self._not_helpful
        return self.feedback.filter(helpful=False).count()


@strawberry.input(description="Narrow the articles list; every field is optional.")
class ArticleFilter:
    category: str | None = strawberry.field(default=None, description="Category slug.")
    tag: str | None = None
    audience: ArticleAudience | None = None


@strawberry.input
class SubmitArticleFeedbackInput:
    article_slug: str
    helpful: bool
    comment: str | None = ""
