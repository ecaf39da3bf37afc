"""Data for browser tests. Transactional tests flush the database, including what the
data migrations made (locale, root page, home page, site, KB index), so each test
builds what it needs here."""

from wagtail.models import Locale, Page, Site

from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage
from portal.models import HomePage


def build_site():
    locale, _ = Locale.objects.get_or_create(language_code="en")
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(instance=Page(title="Root", slug="root", locale=locale))
    home = HomePage.objects.first()
    if home is None:
        home = root.add_child(
            instance=HomePage(
                title="Help centre", slug="home", intro="How can we help?"
            )
        )
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={
            "hostname": "localhost",
            "port": 80,
            "root_page": home,
            "site_name": "Support Portal",
        },
    )
    kb = KnowledgeBasePage.objects.first()
    if kb is None:
        kb = home.add_child(
            instance=KnowledgeBasePage(title="Knowledge base", slug="kb")
        )
    return kb


def add_article(kb, title, summary, text, *, category="Accounts"):
    parent = CategoryPage.objects.filter(title=category).first()
    if parent is None:
        parent = kb.add_child(
            instance=CategoryPage(title=category, slug=category.lower())
        )
        parent.save_revision().publish()
    article = ArticlePage(
        title=title,
        slug=title.lower().replace(" ", "-"),
        summary=summary,
        audience="public",
        body=[("paragraph", f"<p>{text}</p>")],
    )
    parent.add_child(instance=article)
    article.save_revision().publish()
    article.refresh_from_db()
    return article
