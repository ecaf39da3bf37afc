"""Search-result snippets: a window of an article's text around the first matching
word, with the matches marked. Works the same on SQLite and PostgreSQL, whose search
backends return no highlights of their own."""

import hashlib
import json
import re

from django.utils.html import escape
from django.utils.safestring import mark_safe

WORD = re.compile(r"\w+", re.UNICODE)
_ENDS = (". ", "! ", "? ")  # where a sentence ends, for snippet boundaries


# Per process: (article id, digest of its summary and body as stored) → search text
# (``stored_article_text``: ("stored", article id, digest of the stored text)).
# The text is a pure function of that content, so an edit is a new key (nothing to
# invalidate); a full map is simply emptied.
_TEXTS: dict[tuple, str] = {}
TEXTS_MAX = 4096


def article_text(article) -> str:
    """``article.search_text()`` (summary and body as plain text), computed once per
    content: walking the StreamField converts every block and parses every rich text
    of the article, the costliest part of a search page."""
    stored = json.dumps(
        [article.summary, list(article.body.raw_data)], sort_keys=True, default=str
    )
    key = (article.pk, hashlib.blake2b(stored.encode(), digest_size=16).digest())
    text = _TEXTS.get(key)
    if text is None:
        text = article.search_text()
        if len(_TEXTS) >= TEXTS_MAX:
            _TEXTS.clear()
        _TEXTS[key] = text
    return text


def stored_article_text(article_id: int, summary: str, body: str, article) -> str:
    """``article_text`` of an article read as a row: its summary and its body's JSON
    text as stored. The same text, remembered by the stored text itself (no
    StreamField to walk or serialise); ``article()`` gives the article, asked only
    when the text is not known."""
    stored = f"{len(summary)}:{summary}{body}".encode()
    key = ("stored", article_id, hashlib.blake2b(stored, digest_size=16).digest())
    text = _TEXTS.get(key)
    if text is None:
        text = article().search_text()
        if len(_TEXTS) >= TEXTS_MAX:
            _TEXTS.clear()
        _TEXTS[key] = text
    return text


def query_terms(query: str) -> list[str]:
    return [t for t in WORD.findall(query.lower()) if len(t) > 1][:10]


# Per process: (text, query, width) → snippet. A snippet is a pure function of them;
# the same searches show the same articles again and again (~110 Python calls a
# result). A full map is simply emptied.
_SNIPPETS: dict[tuple[str, str, int], str] = {}
SNIPPETS_MAX = 2048


def highlight_snippet(text: str, query: str, *, width: int = 220) -> str:
    """Escaped HTML: up to ``width`` characters of ``text`` around the first term of
    ``query`` found (prefix match, so "sync" marks "syncing"), terms in <mark>."""
    key = (text or "", query, width)
    snippet = _SNIPPETS.get(key)
    if snippet is None:
        snippet = _snippet(text, query, width)
        if len(_SNIPPETS) >= SNIPPETS_MAX:
            _SNIPPETS.clear()
        _SNIPPETS[key] = snippet
    return snippet


def _snippet(text: str, query: str, width: int) -> str:
    text = " ".join((text or "").split())
    terms = query_terms(query)
    if not terms:
        return escape(text[:width])
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(t) for t in terms) + r")\w*", re.IGNORECASE
    )
    first = pattern.search(text)
    at = first.start() if first else 0
    start = max(0, at - width // 3)
    if start:
        # begin at the sentence holding the match when it starts close enough,
        # else at a word
        sentence = max(text.rfind(end, max(0, at - width // 2), at) for end in _ENDS)
        if sentence >= 0:
            start = sentence + 2
        else:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < start + 30 else start
    window = text[start : start + width]
    if start + width < len(text):
        # end with a sentence when one ends in the second half of the window
        last = max(window.rfind(end) for end in _ENDS)
        if last >= width // 2:
            window = window[: last + 1]
    parts, last = [], 0
    for match in pattern.finditer(window):
        parts.append(escape(window[last : match.start()]))
        parts.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    parts.append(escape(window[last:]))
    prefix = "… " if start else ""
    suffix = " …" if start + len(window) < len(text) else ""
    return mark_safe(prefix + "".join(parts) + suffix)  # noqa: S308 - parts escaped
