"""Knowledge base pages: one index at /kb/, categories under it, articles under those.

Who may read an article is decided by ``kb.permissions`` alone; the pages ask it when
they serve and when they list, so that listings, search and the sitemap agree."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Substr
from django.http import Http404
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.models.workflows import AbstractGroupApprovalTask
from wagtail.search import index

from .blocks import ArticleBodyBlock

RESERVED_SLUGS = {"search", "suggest", "feedback"}
POPULAR_DAYS = 30


class Audience(models.TextChoices):
    PUBLIC = "public", _("Everyone")
    CUSTOMERS = "customers", _("Signed-in customers")
    AGENTS = "agents", _("Support staff only")


class KnowledgeBasePage(Page):
    """The KB home at /kb/: categories with article counts and the popular articles."""

    intro = models.TextField(_("introduction"), blank=True, max_length=500)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["portal.HomePage"]
    subpage_types = ["kb.CategoryPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("knowledge base")

    def serve(self, request, *args, **kwargs):
        from .page_cache import mark_cacheable

        mark_cacheable(request)
        return super().serve(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from .permissions import visible_articles, visible_categories

        context = super().get_context(request, *args, **kwargs)
        articles = visible_articles(request.user).descendant_of(self)
        category_path_length = len(self.path) + self.steplen
        counts = dict(
            articles.annotate(category_path=Substr("path", 1, category_path_length))
            .order_by()
            .values_list("category_path")
            .annotate(n=Count("pk"))
        )
        categories = list(
            visible_categories(CategoryPage.objects.child_of(self)).order_by("path")
        )
        for category in categories:
            category.article_count = counts.get(category.path, 0)
        since = timezone.localdate() - timedelta(days=POPULAR_DAYS)
        context["categories"] = [c for c in categories if c.article_count]
        context["popular_articles"] = list(
            articles.annotate(
                recent_views=Coalesce(
                    Sum("daily_views__views", filter=Q(daily_views__day__gte=since)),
                    0,
                )
            ).order_by("-recent_views", "title")[:5]
        )
        return context


class CategoryPage(Page):
    """A topic grouping articles; its slug is the first path segment under /kb/."""

    intro = models.TextField(_("introduction"), blank=True, max_length=500)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["kb.KnowledgeBasePage"]
    subpage_types = ["kb.ArticlePage"]
    per_page = 20

    class Meta:
        verbose_name = _("knowledge base category")
        verbose_name_plural = _("knowledge base categories")

    def clean(self):
        super().clean()
        # /kb/search/, /kb/suggest/ and /kb/feedback/ are views mounted before Wagtail.
        if self.slug in RESERVED_SLUGS:
            raise ValidationError({"slug": _("This slug is reserved for a KB view.")})

    def serve(self, request, *args, **kwargs):
        from .page_cache import mark_cacheable

        mark_cacheable(request)
        return super().serve(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from .permissions import visible_articles

        context = super().get_context(request, *args, **kwargs)
        articles = visible_articles(request.user).child_of(self).order_by("title")
        paginator = Paginator(articles, self.per_page)
        try:
            page_obj = paginator.page(request.GET.get("page") or 1)
        except (EmptyPage, PageNotAnInteger):
            page_obj = paginator.page(1)
        context["articles"] = page_obj
        return context


class ArticlePageTag(TaggedItemBase):
    content_object = ParentalKey(
        "kb.ArticlePage", on_delete=models.CASCADE, related_name="tagged_items"
    )


class ArticlePage(Page):
    """One answer. ``audience`` says who may read it; see ``kb.permissions``."""

    summary = models.TextField(
        _("summary"),
        max_length=300,
        help_text=_("One or two sentences; shown in listings, search and previews."),
    )
    body = StreamField(ArticleBodyBlock(), verbose_name=_("body"))
    tags = ClusterTaggableManager(
        through=ArticlePageTag, blank=True, verbose_name=_("tags")
    )
    audience = models.CharField(
        _("audience"),
        max_length=16,
        choices=Audience.choices,
        default=Audience.PUBLIC,
        db_index=True,
    )

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("body"),
        MultiFieldPanel(
            [FieldPanel("audience"), FieldPanel("tags")], heading=_("Audience and tags")
        ),
        InlinePanel("related_links", label=_("Related articles")),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("body"),
        index.AutocompleteField("summary"),
        index.RelatedFields("tags", [index.SearchField("name")]),
        index.FilterField("audience"),
    ]
    parent_page_types = ["kb.CategoryPage"]
    subpage_types: list = []
    related_limit = 5

    class Meta:
        verbose_name = _("knowledge base article")

    def get_meta_description(self):
        return self.search_description or self.summary

    def serve(self, request, *args, **kwargs):
        from .page_cache import mark_cacheable
        from .permissions import audience_allows
        from .services import record_article_view

        if not getattr(request, "is_preview", False):
            if not audience_allows(request.user, self.audience):
                raise Http404
            if request.method == "GET":
                record_article_view(self)
            if self.audience == Audience.PUBLIC:
                mark_cacheable(request, article_id=self.pk)
        return super().serve(request, *args, **kwargs)

    def get_sitemap_urls(self, request=None):
        # Only articles everyone may read belong in the public sitemap.
        if self.audience != Audience.PUBLIC:
            return []
        return super().get_sitemap_urls(request)

    def table_of_contents(self):
        return [
            {"text": block.value["text"], "anchor": slugify(block.value["text"])}
            for block in self.body
            if block.block_type == "heading"
        ]

    def search_text(self):
        """Plain text of the summary and body, for search-result snippets."""
        parts = [self.summary]
        parts += self.body.stream_block.get_searchable_content(self.body)
        return " ".join(p for p in parts if p)

    def related_articles(self, user):
        """Hand-picked articles first, then ones sharing tags or this category."""
        from .permissions import visible_articles

        visible = visible_articles(user).filter(locale_id=self.locale_id)
        picked_ids = [link.article_id for link in self.related_links.all()]
        picked = {a.pk: a for a in visible.filter(pk__in=picked_ids)}
        related = [picked[pk] for pk in picked_ids if pk in picked]
        remaining = self.related_limit - len(related)
        if remaining <= 0:
            return related[: self.related_limit]
        tag_ids = [tag.pk for tag in self.tags.all()]
        shared_tags = (
            ArticlePageTag.objects.filter(
                content_object=OuterRef("pk"), tag__in=tag_ids
            )
            .order_by()
            .values("content_object")
            .annotate(n=Count("pk"))
            .values("n")
        )
        parent_path = self.path[: -self.steplen]
        automatic = (
            visible.exclude(pk__in=[self.pk, *picked_ids])
            .annotate(
                shared=Coalesce(Subquery(shared_tags, output_field=IntegerField()), 0)
            )
            .filter(Q(shared__gt=0) | Q(path__startswith=parent_path, depth=self.depth))
            .order_by("-shared", "title")[:remaining]
        )
        return related + list(automatic)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["toc"] = self.table_of_contents()
        context["related_articles"] = self.related_articles(request.user)
        context["article_tags"] = list(self.tags.all())
        return context


class ArticleRelatedLink(Orderable):
    """An article the editor chose to show under "Related articles"."""

    page = ParentalKey(
        ArticlePage, on_delete=models.CASCADE, related_name="related_links"
    )
    article = models.ForeignKey(
        ArticlePage,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("article"),
    )

    panels = [FieldPanel("article")]

    class Meta(Orderable.Meta):
        verbose_name = _("related article")


class ArticleFeedback(models.Model):
    """A "was this helpful?" vote: one per signed-in user, or per anonymous session,
    per article; voting again changes the vote (see ``services.submit_feedback``)."""

    article = models.ForeignKey(
        ArticlePage,
        on_delete=models.CASCADE,
        related_name="feedback",
        verbose_name=_("article"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="kb_feedback",
        verbose_name=_("user"),
    )
    session_key = models.CharField(_("session key"), max_length=64, blank=True)
    helpful = models.BooleanField(_("helpful"))
    comment = models.TextField(_("comment"), blank=True, max_length=1000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "user"],
                condition=Q(user__isnull=False),
                name="kb_feedback_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["article", "session_key"],
                condition=Q(user__isnull=True),
                name="kb_feedback_once_per_session",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(session_key=""),
                name="kb_feedback_has_voter",
            ),
        ]

    def __str__(self):
        return f"{self.article_id}: {'yes' if self.helpful else 'no'}"


class ArticleDailyViews(models.Model):
    """Views per article per day, kept apart from the page row so that counting a view
    never locks the article (see ``services.record_article_view``)."""

    article = models.ForeignKey(
        ArticlePage,
        on_delete=models.CASCADE,
        related_name="daily_views",
        verbose_name=_("article"),
    )
    day = models.DateField(_("day"))
    views = models.PositiveIntegerField(_("views"), default=0)

    class Meta:
        verbose_name = _("article views per day")
        verbose_name_plural = _("article views per day")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "day"], name="kb_daily_views_once_per_day"
            )
        ]

    def __str__(self):
        return f"{self.article_id} {self.day}: {self.views}"


class UnansweredSearch(models.Model):
    """A search phrase that found nothing, so editors see what readers miss."""

    query_string = models.CharField(_("search phrase"), max_length=255, unique=True)
    hits = models.PositiveIntegerField(_("times searched"), default=0)
    last_searched_at = models.DateTimeField(_("last searched at"))

    class Meta:
        verbose_name = _("unanswered search")
        verbose_name_plural = _("unanswered searches")

    def __str__(self):
        return self.query_string


class PeerReviewTask(AbstractGroupApprovalTask):
    """Approval by a member of the chosen groups other than the person who asked for
    it: the submitter gets no approve or reject action on their own submission and
    does not see it among the pages awaiting their review (superusers excepted, who
    may publish directly anyway). The KB's review workflow uses it (migration 0005)."""

    @staticmethod
    def _requested_by(obj):
        state = getattr(obj, "current_workflow_state", None)
        return getattr(state, "requested_by_id", None)

    def get_actions(self, obj, user):
        if not user.is_superuser and self._requested_by(obj) == user.pk:
            return []
        return super().get_actions(obj, user)

    def get_task_states_user_can_moderate(self, user, **kwargs):
        states = super().get_task_states_user_can_moderate(user, **kwargs)
        if user.is_superuser:
            return states
        return states.exclude(workflow_state__requested_by=user)

    @classmethod
    def get_description(cls):
        return _(
            "Members of the chosen groups approve; nobody approves their own request"
        )

    class Meta:
        verbose_name = _("Peer review task")
        verbose_name_plural = _("Peer review tasks")
