"""Knowledge base pages: one index at /kb/, categories under it, articles under those.

Who may read an article is decided by ``kb.permissions`` alone. The page models import
nothing above them: what a page checks and lists when served (audience, view count,
page cache, the listings that depend on the reader) is ``kb.rendering``, reached through
Wagtail hooks (``on_serve_page`` and this module's ``kb_page_context``), so that
listings, search and the sitemap agree."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.models.workflows import AbstractGroupApprovalTask
from wagtail.search import index

from .blocks import ArticleBodyBlock

RESERVED_SLUGS = {"search", "suggest", "feedback"}
PAGE_CONTEXT_HOOK = "kb_page_context"


def _reader_context(page, request, context: dict) -> dict:
    """Let the ``kb_page_context`` hooks (``kb.rendering.extend_context``) add what
    the page lists for this reader: an extension point declared here, filled from
    above, so the models need not import the policy."""
    for extend in hooks.get_hooks(PAGE_CONTEXT_HOOK):
        extend(page, request, context)
    return context


class KnownViewRestrictionsMixin:
    """``get_view_restrictions`` answers from ``known_view_restrictions`` when the
    route was kept (``kb.fallback``): the rows Wagtail would read, already read, so
    that its check applies them to each reader without reading them again."""

    known_view_restrictions = None

    def get_view_restrictions(self):
        if self.known_view_restrictions is not None:
            return self.known_view_restrictions
        return super().get_view_restrictions()


class Audience(models.TextChoices):
    PUBLIC = "public", _("Everyone")
    CUSTOMERS = "customers", _("Signed-in customers")
    AGENTS = "agents", _("Support staff only")


class KnowledgeBasePage(KnownViewRestrictionsMixin, Page):
    """The KB home at /kb/: categories with article counts and the popular articles
    (listed by ``kb.rendering``)."""

    intro = models.TextField(_("introduction"), blank=True, max_length=500)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["portal.HomePage"]
    subpage_types = ["kb.CategoryPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("knowledge base")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        return _reader_context(self, request, context)


class CategoryPage(KnownViewRestrictionsMixin, Page):
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

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        return _reader_context(self, request, context)


class ArticlePageTag(TaggedItemBase):
    content_object = ParentalKey(
        "kb.ArticlePage", on_delete=models.CASCADE, related_name="tagged_items"
    )


class ArticlePage(KnownViewRestrictionsMixin, Page):
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

    class Meta:
        verbose_name = _("knowledge base article")

    def get_meta_description(self):
        return self.search_description or self.summary

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

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["toc"] = self.table_of_contents()
        # read when the template's tags fragment is rendered, not when it is cached
        context["article_tags"] = self.tags.all()
        return _reader_context(self, request, context)


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
    never locks the article (see ``kb.counters``)."""

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
