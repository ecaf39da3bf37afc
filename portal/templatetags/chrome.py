"""``{% chrome "includes/header.html" %}``: an include of the site's chrome (the
header on every public and portal page) whose output is kept per *kind of request*
and only its per-request holes filled in each time.

The header is the same text for every request of one language and one kind of
user (anonymous, or signed in with given roles), except for two things: the CSRF
token of its forms and the path the language switcher returns to. Rendering it anew
costs every page ~2.8k Python calls (five URL reversals, a dozen translations, the
language list).

How: the template is rendered in a *fresh* context that holds only ``SITE_NAME``, a
stand-in user (``AnonymousUser``, or an unsaved user carrying the real one's
``is_superuser``/``is_staff``/``is_active`` and role names, nothing else: no id,
no name, no address) and marks for the holes (``csrf_token``, and a request whose
only attribute is ``get_full_path``). The output is split at the marks and kept
under the key (language, the user's kind, autoescape, ``SITE_NAME``, the script
prefix and URLconf, the template object, the settings generation); each render
joins the kept text with the request's own CSRF input (Django's ``{% csrf_token %}``
node) and its escaped path. Anything else the template read would be missing from
the fresh context, so it would render differently from a plain include: the tests
compare the two for every kind of user. Nothing about one user is ever kept: the
stand-in has no personal field. A render without a request or a user, a template
that writes a mark anywhere but in a hole, or a key that cannot be held is rendered
plainly each time."""

import json
import threading

from django import template
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.signals import setting_changed
from django.template import Context, Engine
from django.template.base import render_value_in_context
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_script_prefix, get_urlconf
from django.utils import translation
from django.utils.safestring import SafeString

from accounts import roles

register = template.Library()

# Marks changed by escaping and by any filter that quotes, encodes or changes case, so
# that a mark put through anything but the plain ``{{ … }}`` of the hole leaves a
# trace (a filter that drops the text, ``length`` say, would not: the tests compare
# the kept header with the include).
_MARK = "kept-chrome"
_CSRF_MARK = f"{_MARK}<csrf>"
_PATH_MARK = f"{_MARK}<path>"
_CSRF, _PATH = object(), object()
MAX_KEPT = 64

_generation = 0
_lock = threading.Lock()


def _settings_changed(**kwargs) -> None:
    global _generation
    with _lock:
        _generation += 1


setting_changed.connect(_settings_changed, dispatch_uid="portal-kept-chrome")


class _MarkedRequest:
    """What the chrome may read of the request: the path, as a mark."""

    @staticmethod
    def get_full_path() -> str:
        return _PATH_MARK


def user_kind(user) -> tuple | None:
    """What the chrome may know of ``user``: anonymous, or signed in with these flags
    and role names (the role owner's ``group_names``; not read for a superuser, as
    ``roles.is_staff_member`` does not read it). None: no user to render for."""
    if user is None:
        return None
    if not user.is_authenticated:
        return ("anonymous",)
    names = None if user.is_superuser else frozenset(roles.group_names(user))
    return ("user", user.is_superuser, user.is_staff, user.is_active, names)


def _stand_in(kind: tuple):
    if kind[0] == "anonymous":
        return AnonymousUser()
    _, is_superuser, is_staff, is_active, names = kind
    user = get_user_model()(
        is_superuser=is_superuser, is_staff=is_staff, is_active=is_active
    )
    roles.remember(user, json.dumps(sorted(names or ())))
    return user


def _parts(html: str, marked: Context) -> tuple | None:
    """The kept text split at the holes (a ``{% csrf_token %}``, a plain
    ``{{ request.get_full_path }}``), or None when a mark is left elsewhere."""
    csrf_input = CsrfTokenNode().render(marked)
    path = render_value_in_context(_PATH_MARK, marked)
    parts = []
    for index, piece in enumerate(html.split(csrf_input)):
        if index:
            parts.append(_CSRF)
        for at, text in enumerate(piece.split(path)):
            if at:
                parts.append(_PATH)
            parts.append(text)
    if any(part not in (_CSRF, _PATH) and _MARK in part.lower() for part in parts):
        return None
    return tuple(part for part in parts if part != "")


class ChromeNode(template.Node):
    def __init__(self, name: str):
        self.name = name
        self.kept = {}

    def _template(self, context):
        engine = context.template.engine if context.template else Engine.get_default()
        return engine.get_template(self.name)

    def render(self, context):
        chrome = self._template(context)
        request = context.get("request")
        site_name = context.get("SITE_NAME")
        kind = user_kind(context.get("user"))
        if request is None or kind is None or not isinstance(site_name, str):
            return chrome.render(context)
        key = (
            translation.get_language(),
            kind,
            context.autoescape,
            site_name,
            get_script_prefix(),
            get_urlconf(),
            _generation,
        )
        kept = self.kept.get(key)
        if kept is None or kept[0] is not chrome:
            parts = self._render_marked(chrome, context, kind, site_name)
            if parts is None:
                return chrome.render(context)
            if len(self.kept) >= MAX_KEPT:
                self.kept.clear()
            self.kept[key] = kept = (chrome, parts)
        out = []
        for part in kept[1]:
            if part is _CSRF:
                out.append(CsrfTokenNode().render(context))
            elif part is _PATH:
                out.append(render_value_in_context(request.get_full_path(), context))
            else:
                out.append(part)
        return SafeString("".join(out))

    @staticmethod
    def _render_marked(chrome, context, kind, site_name):
        marked = Context(
            {
                "SITE_NAME": site_name,
                "user": _stand_in(kind),
                "request": _MarkedRequest(),
                "csrf_token": _CSRF_MARK,
            },
            autoescape=context.autoescape,
            use_l10n=context.use_l10n,
            use_tz=context.use_tz,
        )
        return _parts(chrome.render(marked), marked)


@register.tag
def chrome(parser, token):
    """``{% chrome "includes/header.html" %}``: the template's output kept per kind
    of request, its CSRF inputs and path filled in (see the module's docstring)."""
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError(f"{bits[0]} takes one quoted template name")
    return ChromeNode(bits[1][1:-1])
