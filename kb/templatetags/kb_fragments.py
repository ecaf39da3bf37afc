"""``{% kb_fragment name page [extra …] %}…{% endkb_fragment %}``: a part of a KB
page that every reader sees alike (an article's body, tags, breadcrumbs), rendered
once per page revision and language and kept by ``kb.caching.fragment`` until the
knowledge base changes. Django's ``{% cache %}`` would expire on a timer instead of
on publish, and would serve a preview the live revision's HTML."""

from django import template

from kb import caching

register = template.Library()


class FragmentNode(template.Node):
    def __init__(self, nodelist, name, page, extra):
        self.nodelist = nodelist
        self.name = name
        self.page = page
        self.extra = extra

    def render(self, context):
        page = self.page.resolve(context)
        extra = [value.resolve(context) for value in self.extra]
        key = caching.fragment_key(self.name.resolve(context), page, *extra)
        return caching.fragment(
            context.get("request"), key, lambda: self.nodelist.render(context)
        )


@register.tag("kb_fragment")
def kb_fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 3:
        raise template.TemplateSyntaxError(
            "{% kb_fragment name page [extra …] %} needs a name and a page."
        )
    nodelist = parser.parse(("endkb_fragment",))
    parser.delete_first_token()
    name, page, *extra = (parser.compile_filter(bit) for bit in bits[1:])
    return FragmentNode(nodelist, name, page, extra)
