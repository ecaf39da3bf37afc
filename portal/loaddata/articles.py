"""Knowledge-base categories and articles made through Wagtail's tree API.

``add_child`` keeps treebeard's paths right (a hand-computed bulk insert of multi-table
pages is easy to get subtly wrong); what makes it slow in a loop is the per-save search
indexing and reference indexing, so both are switched off for the loop and the search
index is filled in bulk at the end, as ``rebuild_modelsearch_index`` would.
"""

import random
from datetime import timedelta

from django.apps import apps
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.text import slugify
from wagtail.rich_text import RichText
from wagtail.search.backends import get_search_backend
from wagtail.signal_handlers import disable_reference_index_auto_update

from .text import TOPICS, sentence, title

AUDIENCE_WEIGHTS = {"public": 80, "customers": 15, "agents": 5}


def kb_available() -> bool:
    try:
        apps.get_model("kb", "ArticlePage")
    except LookupError:
        return False
    return True


def create_articles(rng: random.Random, count: int, bar) -> list[int]:
    """``count`` live articles under up to 12 categories; returns their ids."""
    from modelsearch.signal_handlers import post_save_signal_handler

    from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage

    index_page = KnowledgeBasePage.objects.order_by("path").first()
    if index_page is None:
        raise RuntimeError("No knowledge base page: run the kb migrations first.")
    topics = TOPICS[: max(1, min(len(TOPICS), count // 20 or 1))]
    categories = []
    post_save.disconnect(post_save_signal_handler, sender=ArticlePage)
    try:
        with disable_reference_index_auto_update():
            for name, keywords in topics:
                slug = f"load-{slugify(name)}"
                category = (
                    CategoryPage.objects.child_of(index_page).filter(slug=slug).first()
                )
                if category is None:
                    category = index_page.add_child(
                        instance=CategoryPage(
                            title=name, slug=slug, intro=name, live=True
                        )
                    )
                categories.append((category, keywords))
            ids = []
            now = timezone.now()
            for n in range(count):
                category, keywords = categories[n % len(categories)]
                heading = title(rng, keywords)
                published = now - timedelta(days=rng.randint(0, 700))
                article = category.add_child(
                    instance=ArticlePage(
                        title=heading,
                        slug=f"{slugify(heading)}-{n}",
                        summary=sentence(rng, keywords, 10),
                        body=_body(rng, keywords),
                        audience=rng.choices(
                            list(AUDIENCE_WEIGHTS), list(AUDIENCE_WEIGHTS.values())
                        )[0],
                        live=True,
                        first_published_at=published,
                        last_published_at=published,
                    )
                )
                ids.append(article.pk)
                bar.update(1)
    finally:
        post_save.connect(post_save_signal_handler, sender=ArticlePage)
    backend = get_search_backend()
    backend.add_bulk(CategoryPage, [c for c, _ in categories])
    for start in range(0, len(ids), 500):
        chunk = ArticlePage.get_indexed_objects().filter(
            pk__in=ids[start : start + 500]
        )
        backend.add_bulk(ArticlePage, list(chunk))
    return ids


def _body(rng: random.Random, keywords: list[str]):
    blocks = []
    for section in range(rng.randint(2, 4)):
        blocks.append(
            (
                "heading",
                {"text": f"Step {section + 1}: {title(rng, keywords)}", "level": "h2"},
            )
        )
        for _ in range(rng.randint(1, 3)):
            text = " ".join(sentence(rng, keywords) for _ in range(rng.randint(2, 5)))
            blocks.append(("paragraph", RichText(f"<p>{text}</p>")))
    return blocks
