"""The codes of the knowledge base services' refusals. docs/graphql.md lists each
under its category."""

from portal.domain_errors import DomainCode, DomainError, MessageAsText


class KbErrorCode(DomainCode):
    FEEDBACK_COMMENT_TOO_LONG = "FEEDBACK_COMMENT_TOO_LONG"
    FEEDBACK_NEEDS_SESSION = "FEEDBACK_NEEDS_SESSION"


class FeedbackError(MessageAsText, DomainError, ValueError):
    """Feedback that cannot be stored; the message is safe to show to the reader.
    Still a ``ValueError``, as it was before it carried a code."""
