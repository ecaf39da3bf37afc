"""State changes and queries of the knowledge base. Views, GraphQL and jobs call these;
none of them re-implements the rules."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log
from wagtail.models import Locale

from .models import ArticleDailyViews, ArticleFeedback, ArticlePage, UnansweredSearch
from .permissions import can_view_article, visible_articles

COMMENT_MAX_LENGTH = 1000
QUERY_MAX_LENGTH = 255


def _plain(text) -> str:
    """Reader input as used: NUL characters removed (PostgreSQL refuses them in text,
    so one would turn into a server error), surrounding space trimmed."""
    return str(text or "").replace("\x00", "").strip()


class FeedbackError(ValueError):
    """Feedback that cannot be stored; the message is safe to show to the reader."""


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
            % {"n": COMMENT_MAX_LENGTH}
        )
    signed_in = bool(getattr(user, "is_authenticated", False))
    if not signed_in and not session_key:
        raise FeedbackError(_("Your browser did not keep a session; enable cookies."))
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


def record_article_view(article, *, day=None) -> None:
    """Count one view of ``article`` today, on a per-day counter row (an F() update,
    an insert the first time), never touching the page row itself."""
    day = day or timezone.localdate()
    counter = ArticleDailyViews.objects.filter(article_id=article.pk, day=day)
    if counter.update(views=F("views") + 1):
        return
    try:
        with transaction.atomic():
            ArticleDailyViews.objects.create(article_id=article.pk, day=day, views=1)
    except IntegrityError:
        counter.update(views=F("views") + 1)


def _in_locale(queryset, locale):
    locale = locale or Locale.get_active()
    return queryset.filter(locale_id=locale.pk)


def search_articles(user, query: str, *, category=None, locale=None):
    """Full-text search over the live articles ``user`` may read.

    ``category`` (a CategoryPage) narrows to its articles; ``locale`` defaults to the
    active language's locale. Returns Wagtail search results (sliceable, countable),
    best match first; an empty query gives no results."""
    query = _plain(query)[:QUERY_MAX_LENGTH]
    articles = _in_locale(visible_articles(user), locale)
    if category is not None:
        articles = articles.child_of(category)
    if not query:
        return articles.none()
    return articles.search(query, operator="and")


def suggest_articles(user, query: str, limit: int = 5, *, locale=None) -> list:
    """The best few readable articles for a draft ticket subject (deflection).

    Any word may match (a subject is a sentence, not a keyword list); if nothing
    matches, the last word is treated as unfinished and autocompleted."""
    query = _plain(query)[:QUERY_MAX_LENGTH]
    if len(query) < 2:
        return []
    limit = max(1, min(int(limit), 20))
    articles = _in_locale(visible_articles(user), locale)
    found = list(articles.search(query, operator="or")[:limit])
    if not found:
        found = list(articles.autocomplete(query)[:limit])
    return found


def record_search(query: str, *, result_count: int) -> None:
    """Log a search in Wagtail's query log (popular searches, promotions) and, when it
    found nothing, in the unanswered-searches list editors review."""
    from wagtail.contrib.search_promotions.models import Query

    query = _plain(query)[:QUERY_MAX_LENGTH]
    if not query:
        return
    logged = Query.get(query)
    logged.add_hit()
    if result_count:
        return
    normalised = logged.query_string
    now = timezone.now()
    updated = UnansweredSearch.objects.filter(query_string=normalised).update(
        hits=F("hits") + 1, last_searched_at=now
    )
    if not updated:
        try:
            with transaction.atomic():
                UnansweredSearch.objects.create(
                    query_string=normalised, hits=1, last_searched_at=now
                )
        except IntegrityError:
            UnansweredSearch.objects.filter(query_string=normalised).update(
                hits=F("hits") + 1, last_searched_at=now
            )
