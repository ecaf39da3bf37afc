"""Reader text as the knowledge base uses it: the one place that cleans a comment or a
search phrase and turns a question into terms the search engines accept."""

import re

QUERY_MAX_LENGTH = 255

# A search term: letters and digits, possibly joined by the punctuation that sits inside
# words ("e-mail", "don't", "v2.1", "name@example.com"). Everything else in reader text
# (quotes, ``*``, ``^``, ``:``, parentheses, a leading ``-`` or ``+``) is query syntax
# to SQLite FTS5 or PostgreSQL ``to_tsquery`` and is dropped.
_TERM = re.compile(r"[^\W_]+(?:[-.'\u2019@_][^\W_]+)*")
_OPERATOR_WORDS = frozenset({"AND", "OR", "NOT", "NEAR"})


def plain(text) -> str:
    """Reader input as used: NUL characters removed (PostgreSQL refuses them in text,
    so one would turn into a server error), surrounding space trimmed."""
    return str(text or "").replace("\x00", "").strip()


def search_text(query) -> str:
    """Reader input as the search backend gets it: whitespace-separated plain terms.

    Wagtail's database backend hands each whitespace-separated word to the full-text
    engine inside its own quoting, which a ``"`` breaks (SQLite FTS5 then fails with
    "unterminated string"), and engine operators would change the meaning. Every
    search of the knowledge base (page, suggestions, portal, GraphQL) goes through
    here. The upper-case operator words ``AND``/``OR``/``NOT``/``NEAR`` are dropped when
    other terms remain, since they cannot be honoured as operators."""
    terms = _TERM.findall(plain(query)[:QUERY_MAX_LENGTH])
    words = [term for term in terms if term not in _OPERATOR_WORDS]
    return " ".join(words or terms)
