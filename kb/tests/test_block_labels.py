"""Every StreamField block label an editor reads starts with a capital letter, like
Wagtail's own labels ("Rich text", not "rich text")."""

from wagtail import blocks

from kb.blocks import ArticleBodyBlock


def _labels(block, path="body"):
    for name, child in getattr(block, "child_blocks", {}).items():
        yield f"{path}.{name}", str(child.label)
        yield from _labels(child, f"{path}.{name}")
    if isinstance(block, blocks.ListBlock):
        yield from _labels(block.child_block, f"{path}[]")


def test_streamfield_block_labels_are_capitalised():
    labels = dict(_labels(ArticleBodyBlock()))
    assert len(labels) >= 20
    lower = {path: label for path, label in labels.items() if not label[:1].isupper()}
    assert lower == {}
    assert labels["body.steps"] == "Numbered steps"
    assert labels["body.heading.level"] == "Level"
    assert labels["body.image.alt_text"] == "Alternative text"
