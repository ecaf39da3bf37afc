"""Demo knowledge base for ``manage.py load_demo``: categories and articles from
``kb.demo_content``, with images and documents drawn in code, a scheduled article, one
awaiting approval, Polish translations and some reader feedback.

Idempotent: pages are found by slug and only created when missing; nothing that exists
is re-published, so a second run adds no rows."""

import io
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.utils import timezone
from wagtail.documents.models import Document
from wagtail.embeds.embeds import get_embed_hash
from wagtail.embeds.models import Embed
from wagtail.images.models import Image
from wagtail.models import Locale

from portal.demo import DemoContext

from .demo_content import ARTICLES, CATEGORIES, FEEDBACK, TOUR_VIDEO, VIEWS
from .demo_content_pl import POLISH
from .demo_content_ru import RUSSIAN
from .models import (
    ArticleDailyViews,
    ArticleFeedback,
    ArticlePage,
    ArticleRelatedLink,
    CategoryPage,
    KnowledgeBasePage,
)

# The demo KB's translations: language code → texts (``kb.demo_content_pl`` shape).
TRANSLATIONS = (("pl", POLISH), ("ru", RUSSIAN))

IMAGES = {
    "setup": (
        "Lumen installer: choose folder",
        ["Choose where Lumen keeps files", "~/Lumen", "Continue"],
    ),
    "sync-diagram": ("How a change syncs", ["Laptop", "Lumen cloud", "Desktop"]),
    "audit-log": (
        "Audit log, sharing changes",
        ["Ana shared Budget", "Ben removed link", "Export CSV"],
    ),
}
DOCUMENTS = {
    "checklist": (
        "Lumen device checklist",
        "lumen-device-checklist.txt",
        (
            "Lumen device checklist\n\n"
            "New computer: install Lumen, sign in, restore from backup, check folders, remove old device.\n"
            "Leaving the team: transfer files, wipe devices, remove the seat.\n"
        ),
    ),
    "dpa": (
        "Lumen data processing summary",
        "lumen-data-processing.txt",
        (
            "Lumen data processing summary\n\n"
            "Regions: EU (Frankfurt, Dublin) or US (Virginia, Oregon), chosen per team.\n"
            "Encryption: TLS 1.3 in transit, AES-256 at rest.\n"
        ),
    ),
}


def _png(title: str, labels: list[str]) -> bytes:
    """A small diagram-like PNG: a title bar and one box per label."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    width, height = 640, 240
    picture = PILImage.new("RGB", (width, height), "#f5f7fa")
    draw = ImageDraw.Draw(picture)
    draw.rectangle([0, 0, width, 36], fill="#0b5fff")
    draw.text((12, 12), title, fill="#ffffff")
    box_width = (width - 40) // len(labels)
    for i, label in enumerate(labels):
        left = 20 + i * box_width
        draw.rounded_rectangle(
            [left + 8, 90, left + box_width - 8, 170],
            radius=12,
            outline="#1b1f24",
            width=2,
        )
        draw.text((left + 20, 124), label, fill="#1b1f24")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _images():
    images = {}
    for key, (title, labels) in IMAGES.items():
        image = Image.objects.filter(title=title).first()
        if image is None:
            image = Image(title=title)
            image.file = ImageFile(
                io.BytesIO(_png(title, labels)), name=f"kb-{key}.png"
            )
            image._set_image_file_metadata()
            image.save()
        images[key] = image
    return images


def _documents():
    documents = {}
    for key, (title, filename, text) in DOCUMENTS.items():
        document = Document.objects.filter(title=title).first()
        if document is None:
            document = Document(title=title)
            document.file = ContentFile(text.encode(), name=filename)
            document._set_document_file_metadata()
            document.save()
        documents[key] = document
    return documents


def _embed():
    """Store the tour video's embed so pages render without calling an oEmbed provider.

    The demo's video host does not exist, and the site's CSP allows frames from known
    video providers only: a link, not an iframe, so no reader's console logs a blocked
    frame."""
    Embed.objects.update_or_create(
        hash=get_embed_hash(TOUR_VIDEO, 800, None),
        defaults={
            "url": TOUR_VIDEO,
            "max_width": 800,
            "type": "link",
            "html": (
                f'<p><a href="{TOUR_VIDEO}">Lumen in two minutes</a> (video, 2:04)</p>'
            ),
            "title": "Lumen in two minutes",
            "provider_name": "Lumen videos",
            "width": None,
            "height": None,
        },
    )


def body_blocks(items, images, documents):
    """Turn the compact tuples of ``demo_content`` into StreamField data."""
    blocks = []
    for item in items:
        kind = item[0]
        if kind == "p":
            blocks.append(("paragraph", item[1]))
        elif kind == "h":
            blocks.append(("heading", {"text": item[1], "level": "h2"}))
        elif kind in ("info", "tip", "warning"):
            blocks.append(("callout", {"kind": kind, "text": item[1]}))
        elif kind == "code":
            blocks.append(("code", {"language": item[1], "code": item[2]}))
        elif kind == "steps":
            blocks.append(("steps", [{"title": t, "text": x} for t, x in item[1]]))
        elif kind == "table":
            blocks.append(
                (
                    "table",
                    {
                        "data": item[1],
                        "first_row_is_table_header": True,
                        "first_col_is_header": False,
                        "table_caption": item[2],
                    },
                )
            )
        elif kind == "image":
            blocks.append(
                (
                    "image",
                    {"image": images[item[1]], "caption": item[2], "alt_text": item[2]},
                )
            )
        elif kind == "doc":
            blocks.append(
                ("document", {"document": documents[item[1]], "title": item[2]})
            )
        elif kind == "embed":
            blocks.append(("embed", item[1]))
        else:
            raise ValueError(f"unknown demo block {kind!r}")
    return blocks


def _editor():
    return get_user_model().objects.filter(email="editor@example.com").first()


def _categories(kb):
    categories = {}
    for slug, title, intro in CATEGORIES:
        category = CategoryPage.objects.child_of(kb).filter(slug=slug).first()
        if category is None:
            category = CategoryPage(title=title, slug=slug, intro=intro)
            kb.add_child(instance=category)
            category.save_revision().publish()
        categories[slug] = category.specific
    return categories


def _create_article(spec, category, articles, images, documents, editor):
    article = ArticlePage(
        title=spec["title"],
        slug=spec["slug"],
        summary=spec["summary"],
        audience=spec.get("audience", "public"),
        body=body_blocks(spec["body"], images, documents),
        related_links=[
            ArticleRelatedLink(article=articles[slug])
            for slug in spec.get("related", [])
        ],
        live=False,
        owner=editor,
    )
    category.add_child(instance=article)
    article.tags.add(*spec.get("tags", []))
    if spec.get("scheduled_in_days"):
        article.go_live_at = timezone.now() + timedelta(days=spec["scheduled_in_days"])
        article.save_revision(user=editor).publish()
    elif spec.get("awaiting_approval"):
        article.save_revision(user=editor)
        article.get_workflow().start(article, editor)
    else:
        # Written by the editor, published as already reviewed content (editors
        # cannot publish themselves: kb migration 0006).
        article.save_revision(user=editor).publish()
    return article


def _articles(categories, images, documents, editor):
    articles = {}
    for spec in ARTICLES:
        category = categories[spec["category"]]
        article = (
            ArticlePage.objects.child_of(category).filter(slug=spec["slug"]).first()
        )
        if article is None:
            article = _create_article(
                spec, category, articles, images, documents, editor
            )
        articles[spec["slug"]] = article
    return articles


def _publish_translation(page, locale, **fields):
    translated = page.get_translation_or_none(locale)
    if translated is not None:
        return translated.specific
    translated = page.copy_for_translation(locale, copy_parents=True).specific
    for name, value in fields.items():
        setattr(translated, name, value)
    translated.save_revision().publish()
    return translated


def _translations(kb, categories, articles, images, documents):
    home = kb.get_parent()
    for language, texts_of in TRANSLATIONS:
        locale, _ = Locale.objects.get_or_create(language_code=language)
        for article_slug, texts in texts_of["articles"].items():
            article = articles[article_slug]
            category = article.get_parent().specific
            if article.get_translation_or_none(locale) is not None:
                continue
            # Parents first, so that they get translated titles, not English copies.
            if home.get_translation_or_none(locale) is None:
                translated_home = home.copy_for_translation(locale).specific
                translated_home.title, translated_home.intro = texts_of["home"]
                translated_home.save_revision().publish()
            kb_title, kb_intro = texts_of["kb"]
            _publish_translation(kb, locale, title=kb_title, intro=kb_intro)
            cat_title, cat_intro = texts_of["categories"][category.slug]
            _publish_translation(category, locale, title=cat_title, intro=cat_intro)
            _publish_translation(
                article,
                locale,
                title=texts["title"],
                summary=texts["summary"],
                body=body_blocks(texts["body"], images, documents),
            )


def _feedback(articles):
    for number, (slug, helpful, comment) in enumerate(FEEDBACK, start=1):
        ArticleFeedback.objects.update_or_create(
            article=articles[slug],
            user=None,
            session_key=f"demo-session-{number}",
            defaults={"helpful": helpful, "comment": comment},
        )


def _views(articles):
    today = timezone.localdate()
    for slug, total in VIEWS:
        for days_ago in range(3):
            ArticleDailyViews.objects.update_or_create(
                article=articles[slug],
                day=today - timedelta(days=days_ago),
                defaults={"views": total // 3},
            )


def load(context: DemoContext) -> None:
    english = Locale.get_default()
    kb = KnowledgeBasePage.objects.filter(locale=english).first()
    if kb is None:
        context.log("Knowledge base skipped: no KB index page (run migrate).")
        return
    editor = _editor()
    images, documents = _images(), _documents()
    _embed()
    categories = _categories(kb)
    articles = _articles(categories, images, documents, editor)
    _translations(kb, categories, articles, images, documents)
    _feedback(articles)
    _views(articles)
    context.objects["kb_index"] = kb
    context.objects["kb_articles"] = articles
    context.log(
        f"Knowledge base at /kb/: {len(categories)} categories, {len(articles)} articles"
        " (some customers- or agents-only, one scheduled, one awaiting approval,"
        f" {len(POLISH['articles'])} in Polish at /pl/kb/,"
        f" {len(RUSSIAN['articles'])} in Russian at /ru/kb/)"
    )
