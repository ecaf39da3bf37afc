import pytest
from django.core.management import call_command
from wagtail.models import Locale, Revision, WorkflowState

from kb.blocks import ArticleBodyBlock
from kb.models import ArticleFeedback, ArticlePage, CategoryPage


@pytest.mark.django_db
def test_demo_knowledge_base_has_what_the_issue_asks_for(client):
    call_command("load_demo")
    english = ArticlePage.objects.filter(locale__language_code="en")
    assert english.count() >= 40
    assert CategoryPage.objects.filter(locale__language_code="en").count() >= 6
    assert english.live().filter(audience="customers").count() >= 2
    assert english.live().filter(audience="agents").count() >= 2
    assert Revision.objects.filter(approved_go_live_at__isnull=False).count() == 1
    assert WorkflowState.objects.filter(status="in_progress").count() == 1
    for language in ("pl", "ru"):  # at least 8 translated articles, across categories
        translated = ArticlePage.objects.filter(locale__language_code=language).live()
        assert translated.count() >= 8
        assert len({page.get_parent().slug for page in translated}) >= 5
    assert ArticleFeedback.objects.count() >= 10
    used = {block.block_type for page in english for block in page.body}
    assert used == set(ArticleBodyBlock.base_blocks)
    every_block = english.get(slug="what-is-lumen")
    assert client.get(every_block.url).status_code == 200
    # the Polish translation lives under /pl/, at its own URL
    polish_page = every_block.get_translation(Locale.objects.get(language_code="pl"))
    assert polish_page.url == "/pl" + every_block.url
    polish = client.get(polish_page.url)
    assert "Czym jest Lumen?" in polish.content.decode()
    russian_page = every_block.get_translation(Locale.objects.get(language_code="ru"))
    assert russian_page.url == "/ru" + every_block.url
    assert "Что такое Lumen?" in client.get(russian_page.url).content.decode()
