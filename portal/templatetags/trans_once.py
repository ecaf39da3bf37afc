"""``{% trans_once %}…{% endtrans_once %}``: the template text and constant
``{% trans "…" %}`` literals inside, at any depth (``if``, ``for``, ``with`` bodies…),
rendered once per language instead of on every render; ``{% blocktrans %}`` too
when it reads only its own literal ``with`` values.

Each run of adjacent text and constant ``{% trans %}`` nodes becomes one node that
renders the run with Django's own nodes the first time a language (and autoescape
setting) asks for it, and keeps the output: a constant ``{% trans %}`` (a literal, no
filters, no ``as``, a literal or no ``context``) reads nothing but the active language
and its catalogue, which a process loads once. Everything else (variables, other tags,
a ``{% blocktrans %}`` with a variable or a count) is left as it was and rendered each
time, except a constant ``{% trans "…" as name %}``, whose value is kept the same way
and set on each render. The output is the same
as without the tag (``portal/tests/test_trans_once.py`` renders both)."""

from django import template
from django.template.base import Node, NodeList, TextNode, TokenType, Variable
from django.template.defaulttags import IfNode
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.utils.safestring import SafeString
from django.utils.translation import get_language

register = template.Library()

TRANSLATIONS = (TranslateNode, BlockTranslateNode)


def _literal(expression) -> bool:
    """A quoted string without filters (``FilterExpression`` resolves it once)."""
    return not expression.filters and isinstance(expression.var, str)


def _translation(node) -> bool:
    """A ``{% trans %}`` or ``{% blocktrans %}`` that reads no variable."""
    return not node.asvar and _reads_nothing(node)


def reads_only_the_language(node) -> bool:
    """Whether ``node`` is a ``{% trans %}`` or ``{% blocktrans %}`` whose output
    depends only on the active language and autoescaping (``portal.kept_nodes``)."""
    return isinstance(node, TRANSLATIONS) and _translation(node)


def _kept_as(node) -> bool:
    """A ``{% trans "…" as name %}`` that reads no variable."""
    return isinstance(node, TranslateNode) and node.asvar and _reads_nothing(node)


def _reads_nothing(node) -> bool:
    if not (node.message_context is None or _literal(node.message_context)):
        return False
    if isinstance(node, TranslateNode):
        expression = node.filter_expression
        return (
            not expression.filters
            and isinstance(expression.var, Variable)
            and expression.var.lookups is None  # not ``{% trans variable %}``
        )
    # ``{% blocktrans with name="…" %}{{ name }}…``: literals only, no count
    return (
        node.countervar is None
        and node.counter is None
        and not node.plural
        and all(_literal(value) for value in node.extra_context.values())
        and all(
            token.contents in node.extra_context
            for token in node.singular
            if token.token_type == TokenType.VAR
        )
    )


def _constant(node) -> bool:
    from portal.kept_nodes import KeptTranslationNode

    if isinstance(node, TextNode | KeptTranslationNode):
        return True
    return isinstance(node, TRANSLATIONS) and _translation(node)


class KeptRunNode(Node):
    """Adjacent text and constant ``{% trans %}`` nodes, their output kept per
    (language, autoescape)."""

    child_nodelists = ()

    def __init__(self, nodes):
        self.nodes = NodeList(nodes)
        self.kept = {}
        self.token = nodes[0].token
        self.origin = nodes[0].origin

    def render(self, context):
        key = (get_language(), context.autoescape)
        html = self.kept.get(key)
        if html is None:
            html = self.kept[key] = SafeString(self.nodes.render(context))
        return html


class KeptAsNode(Node):
    """A constant ``{% trans "…" as name %}``: the value it sets kept per (language,
    autoescape), set again on each render."""

    child_nodelists = ()

    def __init__(self, node):
        self.node = node
        self.kept = {}
        self.token = node.token
        self.origin = node.origin

    def render(self, context):
        key = (get_language(), context.autoescape)
        value = self.kept.get(key)
        if value is None:
            self.node.render(context)
            value = self.kept[key] = context[self.node.asvar]
        else:
            context[self.node.asvar] = value
        return ""


def _fold(nodelist) -> None:
    """Replace, in place, each run of constant nodes holding a ``{% trans %}``."""
    folded, run = [], []

    def close_run():
        if any(not isinstance(node, TextNode) for node in run):
            folded.append(KeptRunNode(run))
        else:
            folded.extend(run)
        run.clear()

    for node in nodelist:
        if _constant(node):
            run.append(node)
            continue
        close_run()
        if _kept_as(node):
            folded.append(KeptAsNode(node))
            continue
        folded.append(node)
        if isinstance(node, IfNode):
            for _condition, branch in node.conditions_nodelists:
                _fold(branch)
        else:
            for name in node.child_nodelists:
                child = getattr(node, name, None)
                if isinstance(child, NodeList):
                    _fold(child)
    close_run()
    nodelist[:] = folded


class TransOnceNode(Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        return self.nodelist.render(context)


@register.tag
def trans_once(parser, token):
    """See the module's docstring."""
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("trans_once takes no arguments")
    nodelist = parser.parse(("endtrans_once",))
    parser.delete_first_token()
    _fold(nodelist)
    return TransOnceNode(nodelist)
