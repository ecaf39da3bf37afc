"""State changes of the knowledge base that readers make: the "was this helpful?" vote.
Views and GraphQL call these; none of them re-implements the rules.

The rest of ``kb`` by concern: ``kb.queries`` (search, suggestions, popular and related
articles, the active locale), ``kb.counters`` (view and search counts),
``kb.caching`` (every cache and the one rule that empties them), ``kb.rendering``
(what KB pages check and show when served), ``kb.page_cache`` (serving cached pages).
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from .errors import FeedbackError, KbErrorCode
from .models import ArticleFeedback, ArticlePage
from .permissions import can_view_article
from .text import plain

COMMENT_MAX_LENGTH = 1000


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
    comment = plain(comment)
    if len(comment) > COMMENT_MAX_LENGTH:
        raise FeedbackError(
            _("Please keep the comment under %(n)d characters.")
            % {"n": COMMENT_MAX_LENGTH},
            KbErrorCode.FEEDBACK_COMMENT_TOO_LONG,
        )
    signed_in = bool(getattr(user, "is_authenticated", False))
    if not signed_in and not session_key:
        raise FeedbackError(
            _("Your browser did not keep a session; enable cookies."),
            KbErrorCode.FEEDBACK_NEEDS_SESSION,
        )
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
