"""Page-tree rules, rendering and admin editing, with Wagtail's page test helpers."""

from django.contrib.auth.models import Group
from wagtail.models import Locale, Page
from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import (
    inline_formset,
    nested_form_data,
    rich_text,
    streamfield,
)

from accounts.models import User
from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage
from portal.models import HomePage


def article_form_data(title, **overrides):
    data = {
        "title": title,
        "slug": title.lower().replace(" ", "-"),
        "summary": "How Lumen copes with two edits at once.",
        "audience": "public",
        "tags": "sync, conflicts",
        "body": streamfield(
            [
                ("heading", {"text": "Why it happens", "level": "h2"}),
                (
                    "paragraph",
                    rich_text("<p>Two people saved the same file offline.</p>"),
                ),
                ("callout", {"kind": "tip", "text": rich_text("<p>Save often.</p>")}),
                ("code", {"language": "bash", "code": "lumen status"}),
            ]
        ),
        "related_links": inline_formset([]),
    }
    data.update(overrides)
    return nested_form_data(data)


class KnowledgeBasePageTests(WagtailPageTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.kb = KnowledgeBasePage.objects.get(locale=Locale.get_default())
        cls.category = CategoryPage(title="Sync", slug="sync")
        cls.kb.add_child(instance=cls.category)
        cls.category.save_revision().publish()
        cls.article = ArticlePage(
            title="Conflicted copies",
            slug="conflicted-copies",
            summary="Why Lumen keeps both versions.",
            body=[
                ("heading", {"text": "Resolving it", "level": "h2"}),
                ("paragraph", "<p>Compare both files.</p>"),
            ],
        )
        cls.category.add_child(instance=cls.article)
        cls.article.save_revision().publish()

    def setUp(self):
        self.admin = User.objects.create_superuser(
            email="admin@example.com", password="pw-123456789"
        )
        self.client.force_login(self.admin)

    def test_tree_rules(self):
        self.assertAllowedParentPageTypes(KnowledgeBasePage, {HomePage})
        self.assertAllowedSubpageTypes(KnowledgeBasePage, {CategoryPage})
        self.assertAllowedParentPageTypes(CategoryPage, {KnowledgeBasePage})
        self.assertAllowedSubpageTypes(CategoryPage, {ArticlePage})
        self.assertAllowedParentPageTypes(ArticlePage, {CategoryPage})
        self.assertAllowedSubpageTypes(ArticlePage, set())
        self.assertCanNotCreateAt(HomePage, ArticlePage)
        self.assertCanNotCreateAt(KnowledgeBasePage, ArticlePage)
        self.assertCanNotCreateAt(Page, KnowledgeBasePage)

    def test_only_one_knowledge_base_per_home(self):
        home = self.kb.get_parent().specific
        self.assertFalse(KnowledgeBasePage.can_create_at(home))

    def test_knowledge_base_is_served_at_kb(self):
        self.assertEqual(self.kb.url, "/kb/")
        self.assertEqual(self.article.url, "/kb/sync/conflicted-copies/")

    def test_pages_render(self):
        self.assertPageIsRenderable(self.kb)
        self.assertPageIsRenderable(self.category)
        self.assertPageIsRenderable(self.article)

    def test_article_is_previewable(self):
        self.assertPageIsPreviewable(
            self.article,
            post_data=article_form_data("Conflicted copies", slug="conflicted-copies"),
        )

    def test_article_is_editable_with_streamfield_data(self):
        self.assertPageIsEditable(
            self.article,
            article_form_data("Conflicted copies", slug="conflicted-copies"),
        )

    def test_editor_creates_article_with_every_simple_block(self):
        self.assertCanCreate(
            self.category, ArticlePage, article_form_data("Two edits at once")
        )
        created = ArticlePage.objects.get(slug="two-edits-at-once")
        self.assertEqual(
            [block.block_type for block in created.body],
            ["heading", "paragraph", "callout", "code"],
        )
        self.assertEqual(
            sorted(t.name for t in created.tags.all()), ["conflicts", "sync"]
        )
        self.assertTrue(created.live)

    def test_reserved_category_slug_is_refused(self):
        data = nested_form_data({"title": "Search", "slug": "search", "intro": ""})
        with self.assertRaises(AssertionError):
            self.assertCanCreate(self.kb, CategoryPage, data)
        self.assertFalse(CategoryPage.objects.filter(slug="search").exists())

    def test_editors_get_kb_permissions_and_a_review_workflow(self):
        editor = User.objects.create_user(
            email="ed@example.com", password="pw-123456789"
        )
        editor.groups.add(Group.objects.get(name="Editors"))
        permissions = self.category.permissions_for_user(editor)
        self.assertTrue(permissions.can_add_subpage())
        self.assertFalse(permissions.can_publish())  # they submit for review
        self.assertTrue(editor.has_perm("wagtailadmin.access_admin"))
        workflow = self.article.get_workflow()
        self.assertEqual(workflow.name, "Knowledge base review")
        self.assertEqual(
            [task.name for task in workflow.tasks], ["Moderators approval"]
        )
        self.assertIn(
            "Editors", [g.name for g in workflow.tasks[0].specific.groups.all()]
        )
