"""Emails of one shape rendered once per process, then filled in with each email's texts.

A filing's receipt and its alerts are rendered from the same three templates every time,
and what changes from one filing to the next is text: the reference, the subject, the
queue's and requester's names, the link, the body. Such a text reaches the email in one
of two forms only, as it is or HTML-escaped, unless a template looks into it (a filter,
a condition, a loop, an attribute). So an email is rendered once per kind, language and
*shape* of its context (``skeleton``) with a marker in place of each such text and of
the greeting's name; later emails of the same shape are the skeleton with the markers
replaced (``prepared``: each text joined once per context, ``Filling.fill``: the name
put in its places: three joins instead of three template renders).

The skeleton is used only where this is provably what rendering gives:

* **Only known tags** (``_ALLOWED``: text, variables, ``if``, ``for``, blocks,
  ``extends`` of a named parent, ``load``, ``translate``, ``blocktranslate`` (kept
  or not: ``portal.kept_nodes``), ``autoescape``, comments): nothing reading the clock,
  another template or the database. Other tags: the kind is rendered per email.
* **Texts a template looks into stay in the shape.** A context key that appears with a
  filter, in a condition, as a loop's sequence, with an attribute, as a filter's
  argument or as a counter (any template of the kind, its parents included) keeps its
  value in the shape's key, as do every value that is not a non-empty text
  (booleans, numbers, lists, None, ``""``).
* **Every read of a marker reaches the email unchanged.** The skeleton's context
  counts the reads of each marked key, and the stand-in recipient (``batch._StandIn``)
  counts the names it gave and spoils on anything else; each marker must then appear,
  raw or HTML-escaped (Django's ``escape``, character by character), exactly as often
  as it was read, and nowhere in a form that is neither (the marker's mixed case and
  ``&`` show a changed one). A translation that drops or repeats a placeholder fails
  this check: that shape is rendered per email.

The skeletons are kept per process (at most ``_LIMIT`` shapes, then all forgotten) and
forgotten when any setting changes (tests' ``override_settings``); the templates come
from Django's cached loader, which keeps them for the process (another loader: none).
"""

import html
import json
import uuid

from django.core.signals import setting_changed
from django.template import TemplateDoesNotExist, engines
from django.template.base import Node, TextNode, Variable, VariableNode
from django.template.defaulttags import (
    AutoEscapeControlNode,
    CommentNode,
    ForNode,
    IfNode,
    LoadNode,
    TemplateLiteral,
)
from django.template.loader import get_template
from django.template.loader_tags import BlockNode, ExtendsNode
from django.template.loaders.cached import Loader as CachedLoader
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.utils import translation
from django.utils.safestring import SafeString

from portal import kept_nodes
from portal.notifications.batch import _StandIn

#: (subject before its clean-up, text, html)
Raw = tuple[str, str, str]

_ALLOWED = frozenset(
    {
        TextNode,
        VariableNode,
        IfNode,
        ForNode,
        BlockNode,
        ExtendsNode,
        LoadNode,
        CommentNode,
        AutoEscapeControlNode,
        TranslateNode,
        BlockTranslateNode,
    }
)

_LIMIT = 256
_UNUSABLE = object()

#: kind → the context keys its templates look into (kept in the shape), or None
_pinned: dict[str, frozenset | None] = {}
#: shape → _Skeleton or _UNUSABLE
_skeletons: dict[tuple, object] = {}


def clear(**kwargs) -> None:
    _pinned.clear()
    _skeletons.clear()


setting_changed.connect(clear, dispatch_uid="portal-notifications-skeletons")


class _NotPlain(Exception):
    """A template of the kind does something the skeleton does not follow."""


def template_names(kind: str) -> tuple[str, str, str]:
    return (f"emails/{kind}_subject.txt", f"emails/{kind}.txt", f"emails/{kind}.html")


def _expression(expression, pinned: set, plain_ok: bool) -> None:
    """Pin what ``expression`` (a ``FilterExpression``) looks into. A plain variable
    (one name, no filter) where ``plain_ok`` is written as it is: not pinned."""
    if expression is None:
        return
    for _function, arguments in expression.filters:
        for lookup, argument in arguments:
            if lookup:
                _variable(argument, pinned)
    if not expression.is_var:
        return
    variable = expression.var
    if variable.lookups is None:  # a literal
        return
    if plain_ok and not expression.filters and len(variable.lookups) == 1:
        return
    pinned.add(variable.lookups[0])


def _variable(variable, pinned: set) -> None:
    if isinstance(variable, Variable) and variable.lookups is not None:
        pinned.add(variable.lookups[0])


def _condition(condition, pinned: set) -> None:
    if condition is None:
        return
    if isinstance(condition, TemplateLiteral):
        _expression(condition.value, pinned, plain_ok=False)
        return
    for part in (condition.first, condition.second):
        _condition(part, pinned)


def _node(node, pinned: set, parents: list) -> None:
    if type(node) in kept_nodes.KEPT_TRANSLATIONS:  # the wrapped node: the same text
        node = node.node
    kind = type(node)
    if kind not in _ALLOWED:
        raise _NotPlain(kind.__name__)
    if kind is VariableNode:
        _expression(node.filter_expression, pinned, plain_ok=True)
    elif kind is IfNode:
        for condition, _nodelist in node.conditions_nodelists:
            _condition(condition, pinned)
    elif kind is ForNode:
        _expression(node.sequence, pinned, plain_ok=False)
    elif kind is BlockTranslateNode:
        if node.asvar:
            raise _NotPlain("blocktranslate as")
        for value in node.extra_context.values():
            _expression(value, pinned, plain_ok=True)
        _expression(node.counter, pinned, plain_ok=False)
        _expression(node.message_context, pinned, plain_ok=False)
    elif kind is TranslateNode:
        if node.asvar:
            raise _NotPlain("translate as")
        _expression(node.filter_expression, pinned, plain_ok=False)
        _expression(node.message_context, pinned, plain_ok=False)
    elif kind is ExtendsNode:
        parent = node.parent_name
        if parent.is_var or parent.filters or not isinstance(parent.var, str):
            raise _NotPlain("extends of a variable")
        parents.append(parent.var)


def looked_into(kind: str) -> frozenset | None:
    """The context keys the kind's templates (and their parents) look into, or None
    if a template uses a tag the skeleton does not follow or a loader other than
    Django's cached one."""
    if kind in _pinned:
        return _pinned[kind]
    pinned: set = set()
    try:
        names, seen = list(template_names(kind)), set()
        while names:
            name = names.pop()
            if name in seen:
                continue
            seen.add(name)
            template = get_template(name).template
            loaders = template.engine.template_loaders
            if not loaders or not all(isinstance(x, CachedLoader) for x in loaders):
                raise _NotPlain("not the cached loader")
            for node in template.nodelist.get_nodes_by_type(Node):
                _node(node, pinned, names)
        if len(engines.all()) != 1:
            raise _NotPlain("more than one template engine")
        result = frozenset(pinned)
    except (_NotPlain, TemplateDoesNotExist):
        result = None
    except Exception:  # e.g. a syntax error: rendered per email, which reports it
        return None
    _pinned[kind] = result
    return result


class _Reads(dict):
    """The skeleton's context: counts the reads of each key (Django's ``Context``
    keeps this dict and reads every variable through ``__getitem__``)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.reads: dict[str, int] = {}

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        self.reads[key] = self.reads.get(key, 0) + 1
        return value


def _marker(token: str, index: int) -> str:
    return f"Zq{token}{index:03d}&{index:03d}{token}Qz"


class _Skeleton:
    """Three texts as segments: literal text, and ``i`` (an int) where the i-th marked
    text goes raw, ``n + i`` where it goes escaped (the greeting's name, if any, is
    the last of the ``n``: ``holes``, its places in each text's segments)."""

    def __init__(self, parts: tuple, slots: int, escaped: tuple, greeted: bool):
        self.parts = parts
        self.slots = slots
        self.escaped = escaped  # the slots that appear escaped somewhere
        name = (slots - 1, 2 * slots - 1) if greeted else ()
        self.holes = tuple(
            tuple(i for i, segment in enumerate(segments) if segment in name)
            for segments in parts
        )

    def arguments(self, values: list) -> list:
        """The slots' texts for ``values`` (the name's slot, if any, left "")."""
        arguments = values + [""] * (self.slots - len(values)) + [""] * self.slots
        for index in self.escaped:
            if index < len(values):
                arguments[self.slots + index] = html.escape(values[index])
        return arguments


def _filled(segments: tuple, holes: tuple, arguments: list) -> tuple:
    """``segments`` with every slot's text in place but the name's (``holes``), the
    texts between joined: (pieces, places of the raw name, of the escaped name)."""
    texts = [arguments[s] if s.__class__ is int else s for s in segments]
    if not holes:
        return ["".join(texts)], (), ()
    pieces, raw, escaped, start = [], [], [], 0
    for hole in holes:
        pieces += ("".join(texts[start:hole]), "")
        (raw if segments[hole] < len(arguments) // 2 else escaped).append(
            len(pieces) - 1
        )
        start = hole + 1
    pieces.append("".join(texts[start:]))
    return pieces, tuple(raw), tuple(escaped)


class Filling:
    """A skeleton with the texts of one email's context, waiting for a name: each
    text joined once but for the name's places, which each email fills."""

    def __init__(self, skeleton: _Skeleton, arguments: list, greeted: bool):
        self._greeted = greeted
        self._escaped_name = greeted and skeleton.slots - 1 in skeleton.escaped
        self._parts = [
            _filled(segments, holes, arguments)
            for segments, holes in zip(skeleton.parts, skeleton.holes, strict=True)
        ]

    def fill(self, name: str | None) -> Raw:
        """The raw rendering for a recipient called ``name`` (None: nobody greeted,
        only if the skeleton was made so)."""
        if self._greeted and name.__class__ is not str:
            name = format(name, "")  # what the format string gave
        escaped = html.escape(name) if self._escaped_name else None
        texts = []
        for pieces, raw, escaped_at in self._parts:
            if raw or escaped_at:
                pieces = pieces.copy()
                for index in raw:
                    pieces[index] = name
                for index in escaped_at:
                    pieces[index] = escaped
            texts.append("".join(pieces))
        subject, text, body = texts
        return subject, SafeString(text), SafeString(body)


def _parse(rendered: str, token: str, slots: int, found: list) -> tuple | None:
    """``rendered`` as segments (texts, and the slot of each marker: raw at i, escaped
    at slots + i), counting each marker's uses in ``found``; None if a marker was
    changed."""
    head = f"Zq{token}"
    tail = f"{token}Qz"
    pieces = rendered.split(head)
    parts = [pieces[0]]
    for piece in pieces[1:]:
        number = piece[:3]
        if not number.isdigit() or int(number) >= slots:
            return None
        index = int(number)
        rest = piece[3:]
        for form, offset in (("&", 0), ("&amp;", slots)):
            closing = f"{form}{number}{tail}"
            if rest.startswith(closing):
                found[offset + index] += 1
                rest = rest[len(closing) :]
                parts.append(offset + index)
                break
        else:
            return None
        parts.append(rest)
    if token in "".join(parts[::2]):
        return None
    return tuple(parts)


def _build(kind, language, full: dict, slots: list, greeted: bool, render_raw):
    """Render the kind once with markers and check it (see the module's docstring)."""
    token = uuid.uuid4().hex
    count = len(slots) + (1 if greeted else 0)
    context = _Reads(full)
    for index, key in enumerate(slots):
        context[key] = _marker(token, index)
    stand_in = _StandIn(_marker(token, len(slots))) if greeted else None
    dict.__setitem__(context, "recipient", stand_in)
    context.reads.clear()
    try:
        with translation.override(language), kept_nodes.rendering_as_django():
            rendered = render_raw(kind, context)
    except Exception:
        return _UNUSABLE
    found = [0] * (2 * count)
    parts = []
    for part in rendered:
        parsed = _parse(part, token, count, found)
        if parsed is None:
            return _UNUSABLE
        parts.append(parsed)
    reads = [context.reads.get(key, 0) for key in slots]
    if greeted:
        if stand_in.spoiled:
            return _UNUSABLE
        reads.append(stand_in.names_given)
    uses = [found[i] + found[count + i] for i in range(count)]
    if uses != reads:
        return _UNUSABLE
    escaped = tuple(i for i in range(count) if found[count + i])
    return _Skeleton(tuple(parts), count, escaped, greeted)


def prepared(kind: str, language: str, full: dict, greeted: bool, render_raw):
    """The ``Filling`` of ``full`` (the email's whole context but its recipient, who
    is greeted or not) from its shape's skeleton (``render_raw(kind, context)``
    renders the raw three parts in ``language``), or None where there is none."""
    pinned = looked_into(kind)
    if pinned is None:
        return None
    slots, values, literals = [], [], []
    for key, value in full.items():
        if key == "recipient":
            continue
        if value.__class__ is str and value and key not in pinned:
            slots.append(key)
            values.append(value)
        else:
            literals.append((key, value))
    try:
        literal = json.dumps(literals)
    except (TypeError, ValueError):
        return None
    shape = (kind, language, greeted, tuple(slots), literal)
    skeleton = _skeletons.get(shape)
    if skeleton is None:
        if len(_skeletons) >= _LIMIT:
            _skeletons.clear()
        skeleton = _skeletons[shape] = _build(
            kind, language, full, slots, greeted, render_raw
        )
    if skeleton is _UNUSABLE:
        return None
    return Filling(skeleton, skeleton.arguments(values), greeted)


def render(kind: str, language: str, full: dict, recipient, render_raw) -> Raw | None:
    """The raw rendering of ``full`` (its ``recipient`` a user with
    ``get_short_name``, or None) from the shape's skeleton, or None."""
    filling = prepared(kind, language, full, recipient is not None, render_raw)
    if filling is None:
        return None
    if recipient is None:
        return filling.fill(None)
    name = recipient.get_short_name()
    if name.__class__ is not str:
        return None
    return filling.fill(name)
