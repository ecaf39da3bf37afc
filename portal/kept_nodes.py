"""Template tags whose output is a function of their literal arguments, kept on the
parsed node.

Every admin page renders fifteen ``{% versioned_static '…' %}`` (Wagtail's skeleton),
the desk's ``{% static '…' %}`` and four to five ``{% icon … %}`` (the messages'
templates and the page header): each time the same text, ~150-240 Python calls each.

- ``{% static 'literal' %}`` and ``{% versioned_static 'literal' %}`` (no ``as``, no
  filter): the URL is the static files storage's for the path, which depends only on
  the settings (``STATIC_URL``, ``STORAGES``, ``DEBUG``; ``INSTALLED_APPS`` for
  Wagtail's version string) and, for a manifest storage, on the manifest it read when
  it was made (made again only when those settings change). Kept per node for one
  *settings generation*, renewed by every ``setting_changed`` (``override_settings``
  in tests); kept only while the storage is a file system one (a storage whose URLs
  are signed or expire is asked each time). An error (a file missing from a strict
  manifest) is raised each time, nothing kept.
- ``{% icon … %}`` (Wagtail's inclusion tag: ``wagtailadmin/shared/icon.html`` filled
  from its four arguments, no context): the output per resolved arguments (plain
  text, safe text, numbers, booleans or None; anything else renders afresh) and
  autoescaping, a few per node.

- ``{% trans 'literal' %}`` and ``{% blocktrans %}`` that read no variable (no ``as``,
  no count; ``portal.templatetags.trans_once.reads_only_the_language`` decides, as
  for ``{% trans_once %}``): the output per (language, autoescaping) for the settings
  generation (the catalogues a process loads do not change; an English message
  missing from the first catalogues tries each app's in turn, ~125 Python calls).
  Wagtail's admin templates print several on every page.
- ``{% blocktrans %}`` that reads variables (no ``as``): the output per (language,
  autoescaping, localisation, the message context and the values it reads, each
  with its type) for the settings generation, a few per node, while every value is
  plain or safe text, a whole number, a boolean or None (``gettext``/``ngettext``
  and the numbers' formats read only those); the values are resolved each render as
  Django's node resolves them. Anything else renders with Django's node.
- ``{% url 'literal' %}`` (no arguments, no ``as``): ``reverse`` reads only the name,
  the URL configuration (the request's, ``get_urlconf``), the script prefix, the
  active language (translated and language-prefixed patterns) and the current
  application; the output is kept per those and autoescaping for the settings
  generation (``ROOT_URLCONF`` changes through it). An error is raised each time.

The node is the parsed template's, so a template parsed again (a template loader
reset, Django's autoreloader) starts empty. What a node renders the first time is
Django's or Wagtail's own node's output.
"""

import threading
from contextlib import contextmanager

from django.core.files.storage import FileSystemStorage
from django.core.signals import setting_changed
from django.template import Node
from django.template.base import FilterExpression
from django.template.defaulttags import URLNode
from django.templatetags.i18n import BlockTranslateNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString
from django.utils.translation import get_language

_settings_generation = 0
_lock = threading.Lock()
_KEYABLE = (str, SafeString, int, bool, type(None))
MAX_PER_NODE = 16


def _settings_changed(**kwargs) -> None:
    global _settings_generation
    with _lock:
        _settings_generation += 1


def _literal(expression) -> bool:
    return (
        isinstance(expression, FilterExpression)
        and isinstance(expression.var, str)
        and not expression.filters
    )


def _storage_urls_fixed() -> bool:
    from django.contrib.staticfiles.storage import staticfiles_storage

    return isinstance(staticfiles_storage, FileSystemStorage)


class KeptStaticNode(Node):
    """A static file URL tag with a literal path: its output kept for the settings
    generation (see the module's docstring)."""

    def __init__(self, node):
        self.node = node
        self.generation = None
        self.kept = {}

    def render(self, context):
        generation = _settings_generation
        if self.generation != generation:
            self.generation, self.kept = generation, {}
        html = self.kept.get(context.autoescape)
        if html is None:
            html = self.node.render(context)
            if _storage_urls_fixed():
                self.kept[context.autoescape] = html
        return html


class KeptIconNode(Node):
    """Wagtail's ``{% icon %}``: its output per resolved arguments."""

    def __init__(self, node):
        self.node = node
        self.kept = {}

    def render(self, context):
        node = self.node
        args = [arg.resolve(context) for arg in node.args]
        kwargs = {name: value.resolve(context) for name, value in node.kwargs.items()}
        values = [*args, *kwargs.values()]
        if any(type(value) not in _KEYABLE for value in values):
            return node.render(context)
        key = (
            context.autoescape,
            tuple((type(value), value) for value in args),
            tuple((name, type(value), value) for name, value in kwargs.items()),
        )
        return _kept_output(self.kept, key, node, context)


def _kept_output(kept: dict, key, node, context):
    """``node``'s output kept in ``kept`` under ``key``: rendered at the first use of a
    key, at most ``MAX_PER_NODE`` keys (all forgotten when a new one would pass it)."""
    html = kept.get(key)
    if html is None:
        html = node.render(context)
        if len(kept) >= MAX_PER_NODE:
            kept.clear()
        kept[key] = html
    return html


class _AsDjango(threading.local):
    on = False


_as_django = _AsDjango()


@contextmanager
def rendering_as_django():
    """In this thread, the kept translation nodes render with the node they wrap, each
    variable read as Django's node reads it: for the email skeletons
    (``portal.notifications.skeletons``), which count the reads of their context."""
    before, _as_django.on = _as_django.on, True
    try:
        yield
    finally:
        _as_django.on = before


class _KeptPerKey(Node):
    """A node's output per ``key(context)`` for the settings generation, a few keys
    per node."""

    child_nodelists = ()

    def __init__(self, node):
        self.node = node
        self.generation = None
        self.kept = {}

    def key(self, context):
        """The key of the output for ``context``; None: not kept, rendered by the
        wrapped node."""
        raise NotImplementedError

    def render(self, context):
        if _as_django.on:
            return self.node.render(context)
        generation = _settings_generation
        if self.generation != generation:
            self.generation, self.kept = generation, {}
        key = self.key(context)
        if key is None:
            return self.node.render(context)
        return _kept_output(self.kept, key, self.node, context)


class KeptTranslationNode(_KeptPerKey):
    """A ``{% trans %}`` or ``{% blocktrans %}`` that reads no variable: its output
    per (language, autoescaping) for the settings generation."""

    def key(self, context):
        return get_language(), context.autoescape


class KeptBlockTranslationNode(_KeptPerKey):
    """A ``{% blocktrans %}`` (no ``as``) that reads variables: its output per
    (language, autoescaping, localisation, its context and the values it reads) for
    the settings generation, while each value is plain or safe text, a whole number,
    a boolean or None; anything else, or a name missing from the context, renders
    with Django's node each time."""

    def __init__(self, node):
        super().__init__(node)
        names = node.render_token_list(node.singular)[1]
        self.counted = bool(node.plural and node.countervar and node.counter)
        if self.counted:  # the count picks the form, read or not
            names += [node.countervar, *node.render_token_list(node.plural)[1]]
        self.names = tuple(dict.fromkeys(names))

    def key(self, context):
        node = self.node
        message_context = (
            node.message_context.resolve(context) if node.message_context else None
        )
        if type(message_context) not in _KEYABLE:
            return None
        read = {
            name: value.resolve(context) for name, value in node.extra_context.items()
        }
        if self.counted:  # resolved where Django resolves it: its ``with`` values set
            with context.push(read):
                read[node.countervar] = node.counter.resolve(context)
        values = []
        for name in self.names:
            if name in read:
                value = read[name]
            elif name in context:
                value = context[name]
            else:
                return None
            if type(value) not in _KEYABLE:
                return None
            values.append((type(value), value))
        return (
            get_language(),
            context.autoescape,
            context.use_l10n,
            context.use_tz,
            message_context,
            tuple(values),
        )


def _current_app(context):
    """The current application ``{% url %}`` reverses with (``URLNode.render``)."""
    try:
        return context.request.current_app
    except AttributeError:
        try:
            return context.request.resolver_match.namespace
        except AttributeError:
            return None


class KeptURLNode(_KeptPerKey):
    """``{% url 'literal' %}`` without arguments: its output per what ``reverse``
    reads (see the module's docstring) for the settings generation."""

    def key(self, context):
        return (
            get_language(),
            get_urlconf(),
            get_script_prefix(),
            _current_app(context),
            context.autoescape,
        )


def _keeping(kept_for):
    """A wrapper of a tag's compile function: the node it compiles, or the kept node
    ``kept_for(node)`` returns for it (None: the node as it is)."""

    def wrap(compile_tag):
        def compile_kept(parser, token):
            node = compile_tag(parser, token)
            return kept_for(node) or node

        compile_kept.kept = True
        compile_kept.__wrapped_tag__ = compile_tag
        return compile_kept

    return wrap


@_keeping
def _keeping_translation(node):
    from portal.templatetags.trans_once import reads_only_the_language

    if reads_only_the_language(node):
        return KeptTranslationNode(node)
    if type(node) is BlockTranslateNode and node.asvar is None:
        return KeptBlockTranslationNode(node)
    return None


@_keeping
def _keeping_url(node):
    if (
        type(node) is URLNode
        and node.asvar is None
        and not node.args
        and not node.kwargs
        and _literal(node.view_name)
    ):
        return KeptURLNode(node)
    return None


@_keeping
def _keeping_static(node):
    literal = (
        getattr(node, "varname", "none") is None  # Django's StaticNode
        and _literal(node.path)
    ) or (
        getattr(node, "target_var", "none") is None  # a simple_tag's node
        and len(getattr(node, "args", ())) == 1
        and not node.kwargs
        and _literal(node.args[0])
    )
    return KeptStaticNode(node) if literal else None


@_keeping
def _keeping_icon(node):
    if getattr(node, "takes_context", True):
        return None  # Wagtail declares it without the context
    return KeptIconNode(node)


def install() -> None:
    """Wrap the tags' compile functions (before any template using them is compiled:
    ``PortalConfig.ready``)."""
    from django.template import defaulttags
    from django.templatetags import i18n, static
    from wagtail.admin.templatetags import wagtailadmin_tags

    wagtail = wagtailadmin_tags.register
    for library, name, wrap in (
        (static.register, "static", _keeping_static),
        (wagtail, "versioned_static", _keeping_static),
        (wagtail, "icon", _keeping_icon),
        *(
            (i18n.register, name, _keeping_translation)
            for name in ("trans", "translate", "blocktrans", "blocktranslate")
        ),
        (defaulttags.register, "url", _keeping_url),
    ):
        compile_tag = library.tags[name]
        if not getattr(compile_tag, "kept", False):
            library.tag(name, wrap(compile_tag))
    setting_changed.connect(_settings_changed, dispatch_uid="portal-kept-nodes")


#: The kept nodes that wrap ``{% trans %}`` / ``{% blocktrans %}`` (``.node``: the wrapped
#: one), for code that follows a template's nodes.
KEPT_TRANSLATIONS = (KeptTranslationNode, KeptBlockTranslationNode)
