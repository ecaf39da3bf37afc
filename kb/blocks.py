"""The blocks an article body is made of. One StreamBlock, so the API, the search index
and the templates all know the same set; each block has its own template under
``templates/blocks/``."""

from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.contrib.table_block.blocks import TableBlock
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageChooserBlock


class HeadingBlock(blocks.StructBlock):
    """A section heading; the article's table of contents is built from these."""

    text = blocks.CharBlock(label=_("Text"), max_length=120)
    level = blocks.ChoiceBlock(
        label=_("Level"),
        choices=[("h2", _("Heading 2")), ("h3", _("Heading 3"))],
        default="h2",
        search_index=False,
    )

    class Meta:
        icon = "title"
        template = "blocks/heading_block.html"
        preview_value = {"text": _("Before you start"), "level": "h2"}

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["anchor"] = slugify(value["text"])
        return context


class CalloutBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(
        label=_("Kind"),
        choices=[("info", _("Info")), ("tip", _("Tip")), ("warning", _("Warning"))],
        default="info",
        search_index=False,
    )
    text = blocks.RichTextBlock(label=_("Text"), features=["bold", "italic", "link"])

    class Meta:
        icon = "warning"
        template = "blocks/callout_block.html"
        preview_value = {"kind": "tip", "text": "<p>Pause sync before a big move.</p>"}


class CodeBlock(blocks.StructBlock):
    language = blocks.ChoiceBlock(
        label=_("Language"),
        choices=[
            ("text", _("Plain text")),
            ("bash", "Shell"),
            ("powershell", "PowerShell"),
            ("json", "JSON"),
            ("yaml", "YAML"),
            ("python", "Python"),
        ],
        default="text",
        search_index=False,
    )
    code = blocks.TextBlock(label=_("Code"))

    class Meta:
        icon = "code"
        template = "blocks/code_block.html"
        preview_value = {"language": "bash", "code": "lumen status --verbose"}


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("Image"))
    caption = blocks.CharBlock(label=_("Caption"), required=False, max_length=250)
    alt_text = blocks.CharBlock(
        label=_("Alternative text"),
        required=False,
        max_length=250,
        help_text=_("Describe the image for people who cannot see it."),
    )

    class Meta:
        icon = "image"
        template = "blocks/image_block.html"


class DocumentBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("Document"))
    title = blocks.CharBlock(label=_("Link text"), required=False, max_length=120)

    class Meta:
        icon = "doc-full"
        template = "blocks/document_block.html"


class StepBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), max_length=120)
    text = blocks.RichTextBlock(
        label=_("Text"), required=False, features=["bold", "italic", "link", "code"]
    )


class StepsBlock(blocks.ListBlock):
    def __init__(self, **kwargs):
        super().__init__(StepBlock(), **kwargs)

    class Meta:
        icon = "list-ol"
        template = "blocks/steps_block.html"


class ArticleBodyBlock(blocks.StreamBlock):
    paragraph = blocks.RichTextBlock(
        label=_("Rich text"),
        icon="pilcrow",
        features=["bold", "italic", "link", "ol", "ul", "code", "document-link"],
        template="blocks/paragraph_block.html",
    )
    heading = HeadingBlock(label=_("Heading"))
    callout = CalloutBlock(label=_("Callout"))
    code = CodeBlock(label=_("Code"))
    image = ImageBlock(label=_("Image"))
    table = TableBlock(label=_("Table"), template="blocks/table_block.html")
    embed = EmbedBlock(
        label=_("Embed"), max_width=800, template="blocks/embed_block.html"
    )
    document = DocumentBlock(label=_("Document download"))
    steps = StepsBlock(label=_("Numbered steps"))
