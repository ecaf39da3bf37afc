"""Every route of the site, for tests that must hold for all of them: the whole URL
resolver walked through every include, each route with a sample path that it matches
(its converters' and regular expressions' parts filled in) and whether a request for
that path reaches it or an earlier route shadows it."""

import re
from dataclasses import dataclass
from re import _constants as sre
from re import _parser

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

# Characters tried, in order, wherever a character class must be filled.
CANDIDATES = "a1-_.x"


@dataclass(frozen=True)
class Route:
    route: str  # the patterns joined, as Django shows them
    path: str  # a path this route matches
    callback: object
    name: str | None
    has_parameters: bool
    served: bool  # a request for ``path`` reaches this route (not an earlier one)
    served_by: object  # the callback a request for ``path`` reaches


def all_routes() -> list[Route]:
    routes = []
    for chain in _walk(get_resolver().url_patterns, ()):
        pattern = chain[-1]
        path = "/" + "".join(sample(part.pattern.regex.pattern) for part in chain)
        try:
            match = resolve(path)
        except Resolver404:
            match = None
        routes.append(
            Route(
                route="".join(str(part.pattern) for part in chain),
                path=path,
                callback=pattern.callback,
                name=pattern.name,
                has_parameters=any(part.pattern.regex.groups for part in chain),
                served=match is not None and match.func is pattern.callback,
                served_by=match.func if match else None,
            )
        )
    return routes


def _walk(patterns, chain):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, (*chain, pattern))
        elif isinstance(pattern, URLPattern):
            yield (*chain, pattern)


def sample(regex: str) -> str:
    """A short string that ``regex`` matches (anchors dropped)."""
    text = _emit(_parser.parse(regex))
    assert re.match(regex, text), (regex, text)
    return text


def _emit(parsed) -> str:
    out = []
    for op, av in parsed:
        if op is sre.LITERAL:
            out.append(chr(av))
        elif op is sre.NOT_LITERAL:
            out.append(next(ch for ch in CANDIDATES if ord(ch) != av))
        elif op is sre.ANY:
            out.append(CANDIDATES[0])
        elif op is sre.IN:
            out.append(next(ch for ch in CANDIDATES if _in_class(av, ch)))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, high, sub = av
            out.append(_emit(sub) * (low or min(1, high)))
        elif op is sre.SUBPATTERN:
            out.append(_emit(av[-1]))
        elif op is sre.BRANCH:
            out.append(_emit(av[1][0]))
        elif op is sre.AT:
            continue
        else:
            raise ValueError(f"Cannot fill {op} in a URL pattern")
    return "".join(out)


_CATEGORIES = {
    sre.CATEGORY_DIGIT: str.isdigit,
    sre.CATEGORY_NOT_DIGIT: lambda ch: not ch.isdigit(),
    sre.CATEGORY_WORD: lambda ch: ch.isalnum() or ch == "_",
    sre.CATEGORY_NOT_WORD: lambda ch: not (ch.isalnum() or ch == "_"),
    sre.CATEGORY_SPACE: str.isspace,
    sre.CATEGORY_NOT_SPACE: lambda ch: not ch.isspace(),
}


def _in_class(items, ch: str) -> bool:
    negate = bool(items) and items[0][0] is sre.NEGATE
    found = False
    for op, av in items:
        if op is sre.LITERAL:
            found |= ord(ch) == av
        elif op is sre.RANGE:
            found |= av[0] <= ord(ch) <= av[1]
        elif op is sre.CATEGORY:
            found |= _CATEGORIES[av](ch)
    return found != negate
