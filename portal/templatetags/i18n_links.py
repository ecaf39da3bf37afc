"""Links between the language versions of a page: the header's switcher and the
``hreflang`` alternates in ``<head>``.

A Wagtail page's versions are its live translations (``page.get_translations``), each
at its own URL. Any other public page (sign-in, KB search) exists in every language at
the same path under the language's prefix (``i18n_patterns`` in ``portal.urls``). Pages
outside the prefixes (portal, desk, account) have one URL in every language: no
alternates.
"""

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.urls import Resolver404, get_script_prefix, get_urlconf, resolve, reverse
from django.utils import translation

register = template.Library()


def without_prefix(path: str) -> str:
    language = translation.get_language_from_path(path)
    if not language:
        return path
    return path[len(language) + 1 :] or "/"


# ``path_in``'s answers: a function of the path, the language, the URLconf and the
# script prefix (resolving and reversing read nothing else), kept per process for the
# paths asked (every page's ``<head>`` asks for each language: ~1k Python calls). A
# bounded map, emptied when full (paths come from the request line) and when a setting
# changes (tests' ``override_settings`` of ``ROOT_URLCONF`` or ``LANGUAGES``).
_PATHS: dict[tuple, str | None] = {}
PATHS_MAX = 1024


def _forget_paths(**kwargs) -> None:
    _PATHS.clear()


setting_changed.connect(_forget_paths, dispatch_uid="portal-i18n-links-paths")


def path_in(path: str, language: str) -> str | None:
    """``path`` (any language's) in ``language``, or None when it is not a page
    under the language prefixes."""
    key = (path, language, get_urlconf(), get_script_prefix())
    try:
        return _PATHS[key]
    except KeyError:
        pass
    found = _path_in(path, language)
    if len(_PATHS) >= PATHS_MAX:
        _PATHS.clear()
    _PATHS[key] = found
    return found


def _path_in(path: str, language: str) -> str | None:
    english = without_prefix(path)
    with translation.override(settings.LANGUAGE_CODE):
        try:
            match = resolve(english)
        except Resolver404:
            return None
        name = match.view_name
        if _unprefixed(name, match, english):
            return None
    with translation.override(language):
        return reverse(name, args=match.args, kwargs=match.kwargs)


def _unprefixed(name, match, english) -> bool:
    with translation.override(_other_language()):
        try:
            return reverse(name, args=match.args, kwargs=match.kwargs) == english
        except Exception:  # noqa: BLE001 — no reverse: treat as not translatable
            return True


def _other_language() -> str:
    return next(c for c, _ in settings.LANGUAGES if c != settings.LANGUAGE_CODE)


def page_alternates(page, request) -> list[tuple[str, str]]:
    """(language code, absolute URL) of each live, public version of a Wagtail page."""
    alternates = []
    # one query; a page and its translations share their place in the tree, so a
    # public page's translations are public too (their view restrictions are not
    # checked again here)
    for version in (
        page.get_translations(inclusive=True)
        .live()
        .select_related("locale")
        .order_by("locale__language_code")
    ):
        url = version.get_url(request)
        if url:
            alternates.append(
                (version.locale.language_code, request.build_absolute_uri(url))
            )
    return alternates


@register.simple_tag(takes_context=True)
def language_alternates(context) -> list[tuple[str, str]]:
    """(language code, absolute URL) of every language version of this page."""
    request = context.get("request")
    if request is None:
        return []
    page = context.get("page")
    if page is not None and hasattr(page, "get_translations"):
        return page_alternates(page, request)
    if getattr(request, "resolver_match", None) is None:
        return []
    alternates = []
    for code, _name in settings.LANGUAGES:
        path = path_in(request.path, code)
        if path is None:
            return []
        alternates.append((code, request.build_absolute_uri(path)))
    return alternates


@register.simple_tag(takes_context=True)
def language_choices(context) -> list[dict]:
    """The switcher's options: code, name in its own language, whether current."""
    current = translation.get_language()
    return [
        {"code": code, "name": name, "current": code == current}
        for code, name in settings.LANGUAGES
    ]
