"""Who may read which knowledge-base article: the one place that decides it.

Audiences: ``public`` (everyone), ``customers`` (any signed-in user), ``agents`` (staff:
agents, supervisors, editors, viewers, administrators; see
``accounts.roles.is_staff_member``). Page serving, listings, search, suggestions, the
sitemap, feedback and GraphQL all ask these functions, so they never disagree. A page
that may not be read is reported as missing (404), never as forbidden.
"""

from django.db.models import Q
from wagtail.models import Page

from accounts.roles import EDITORS, has_role, is_staff_member

from . import caching
from .models import ArticlePage, Audience, CategoryPage


def allowed_audiences(user) -> tuple[str, ...]:
    """The audience values ``user`` may read (anonymous users: ``("public",)``)."""
    if is_staff_member(user):
        return (Audience.PUBLIC, Audience.CUSTOMERS, Audience.AGENTS)
    if getattr(user, "is_authenticated", False):
        return (Audience.PUBLIC, Audience.CUSTOMERS)
    return (Audience.PUBLIC,)


def audience_allows(user, audience: str) -> bool:
    """Whether ``user`` may read an article with this ``audience`` value."""
    return audience in allowed_audiences(user)


def public_q() -> Q:
    """Wagtail's "not in a private section" condition (``PageQuerySet.public()``) as a
    ``Q``: one query for the view restrictions, so a request that lists several kinds of
    page (search: articles and categories) reads them once. Pass it as ``public=`` below
    or ``.filter()`` a page queryset with it; it is the same condition ``.public()``
    applies. The restrictions are read at call time, or remembered until the knowledge
    base changes while the page cache is on (``kb.caching``: a view restriction saved
    or deleted, a page moved or deleted starts a new generation)."""
    return caching.remembered_while_shared(
        caching.view_restrictions, None, lambda: ~Page.objects.private_q()
    )


def visible_articles(user, queryset=None, *, public=None):
    """Live, non-private articles ``user`` may read, as an ``ArticlePage`` queryset.

    ``queryset`` narrows a queryset of ArticlePage you already have (default: all);
    ``public`` is a ``public_q()`` this request already has (default: read now).
    The result is still a PageQuerySet, so ``.search()``, ``.child_of()`` and the
    like work on it."""
    return readable_articles(allowed_audiences(user), queryset, public=public)


def readable_articles(audiences, queryset=None, *, public=None):
    """``visible_articles`` for a reader whose ``allowed_audiences`` are
    ``audiences``: the same condition, for a statement kept per set of audiences
    (``kb.queries``) rather than per reader."""
    if queryset is None:
        queryset = ArticlePage.objects.all()
    queryset = queryset.live()
    queryset = queryset.public() if public is None else queryset.filter(public)
    return queryset.filter(audience__in=audiences)


def visible_categories(queryset=None, *, public=None):
    """Live categories outside private sections (every reader may see a category; the
    articles in it are what ``visible_articles`` narrows). ``public`` as above."""
    if queryset is None:
        queryset = CategoryPage.objects.all()
    queryset = queryset.live()
    return queryset.public() if public is None else queryset.filter(public)


def can_view_article(user, page) -> bool:
    """Whether ``user`` may read this live article (audience and page privacy)."""
    page = getattr(page, "specific", page)
    if not isinstance(page, ArticlePage) or not page.live:
        return False
    if not audience_allows(user, page.audience):
        return False
    return not page.get_view_restrictions().exists()


def can_view_feedback_report(user) -> bool:
    """Editors and administrators see the helpfulness and unanswered-search reports."""
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_superuser or has_role(user, EDITORS)
    )
