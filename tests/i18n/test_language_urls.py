"""Language prefixes, the header's switcher, the profile language, the English
fallback of untranslated KB pages, hreflang alternates and the sitemap."""

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from wagtail.models import Locale

from accounts.models import User
from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage


@pytest.fixture(autouse=True)
def _no_cached_pages():
    cache.clear()
    yield
    cache.clear()


def lang_of(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


@pytest.fixture
def article(db):
    kb = KnowledgeBasePage.objects.get(locale=Locale.get_default())
    category = CategoryPage(title="Getting started", slug="getting-started")
    kb.add_child(instance=category)
    category.save_revision().publish()
    article = ArticlePage(
        title="Sync your files",
        slug="sync-your-files",
        summary="How syncing works.",
        audience="public",
        body=[("paragraph", "<p>Lumen keeps your files in sync.</p>")],
    )
    category.add_child(instance=article)
    article.save_revision().publish()
    article.refresh_from_db()
    return article


@pytest.fixture
def polish_article(article):
    """The article translated into Polish (with the pages above it)."""
    polish, _ = Locale.objects.get_or_create(language_code="pl")
    translated = article.copy_for_translation(polish, copy_parents=True).specific
    translated.title = "Synchronizacja plików"
    translated.save_revision().publish()
    for ancestor in translated.get_ancestors().filter(depth__gt=1).specific():
        if not ancestor.live:
            ancestor.save_revision().publish()
    return translated


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/", "/accounts/login/", "/accounts/signup/", "/kb/search/?q=sync"]
)
@pytest.mark.parametrize("language", ["pl", "ru"])
def test_public_pages_exist_under_each_language_prefix(client, path, language):
    response = client.get(f"/{language}{path}")
    assert response.status_code == 200
    assert lang_of(response) == language
    english = client.get(path)
    assert english.status_code == 200
    assert lang_of(english) == "en"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/xx/", "/de/kb/", "/en/", "/xx/accounts/login/"])
def test_an_unknown_language_prefix_is_a_404(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.django_db
def test_signed_in_pages_follow_the_profile_language(client, make_user):
    client.force_login(make_user("ru@example.com", locale="ru"))
    assert lang_of(client.get("/account/profile/")) == "ru"
    assert lang_of(client.get("/portal/")) == "ru"
    # a prefix names the page's language and wins over the profile
    assert lang_of(client.get("/pl/accounts/email/")) == "pl"


@pytest.mark.django_db
def test_a_bad_profile_or_cookie_language_falls_back_to_english(client, make_user):
    user = make_user("bad@example.com")
    User.objects.filter(pk=user.pk).update(locale="xx")
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zz"
    response = client.get("/account/profile/")
    assert response.status_code == 200
    assert lang_of(response) == "en"
    client.logout()
    response = client.get("/")
    assert response.status_code == 200
    assert lang_of(response) == "en"


@pytest.mark.django_db
def test_the_header_has_a_keyboard_usable_switcher_keeping_the_page(client):
    html = client.get("/pl/accounts/login/").content.decode()
    form = re.search(
        r'<form method="post" action="/i18n/setlang/"[^>]*>(.*?)</form>', html, re.S
    ).group(1)
    assert '<input type="hidden" name="next" value="/pl/accounts/login/">' in form
    assert '<label for="language-switcher-select"' in form
    assert '<option value="pl" lang="pl" selected>Polski</option>' in form
    assert '<option value="ru" lang="ru">Русский</option>' in form
    assert '<button type="submit"' in form


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "next_url", "target"),
    [
        ("pl", "/accounts/login/", "/pl/accounts/login/"),
        (
            "ru",
            "/pl/accounts/login/?next=/portal/",
            "/ru/accounts/login/?next=/portal/",
        ),
        ("en", "/ru/kb/search/?q=x", "/kb/search/?q=x"),
        ("pl", "/", "/pl/"),
        ("ru", "/pl/kb/", "/ru/kb/"),
        ("pl", "/portal/", "/portal/"),
    ],
)
def test_switching_language_redirects_to_the_same_page(
    client, language, next_url, target
):
    response = client.post("/i18n/setlang/", {"language": language, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == target
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == language


@pytest.mark.django_db
def test_switching_language_when_signed_in_saves_the_profile(client, make_user):
    user = make_user("me@example.com", locale="en")
    client.force_login(user)
    client.post("/i18n/setlang/", {"language": "ru", "next": "/portal/"})
    user.refresh_from_db()
    assert user.locale == "ru"
    client.post("/i18n/setlang/", {"language": "xx", "next": "/portal/"})
    user.refresh_from_db()
    assert user.locale == "ru"


@pytest.mark.django_db
def test_signing_in_keeps_the_language_chosen_before(client, make_user, password):
    user = make_user("new@example.com")
    assert user.locale == ""
    client.post("/i18n/setlang/", {"language": "pl", "next": "/"})
    response = client.post(
        "/pl/accounts/login/", {"login": "new@example.com", "password": password}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.locale == "pl"


@pytest.mark.django_db
def test_javascript_catalogue_per_language(client):
    assert client.get("/jsi18n/").status_code == 200
    response = client.get("/ru/jsi18n/")
    assert response.status_code == 200
    assert "pluralidx" in response.content.decode()


@pytest.mark.django_db
def test_an_untranslated_article_falls_back_to_english_with_a_note(client, article):
    url = article.url
    assert url == "/kb/getting-started/sync-your-files/"
    english = client.get(url).content.decode()
    assert "language-fallback" not in english
    response = client.get("/pl" + url)
    assert response.status_code == 200
    html = response.content.decode()
    assert lang_of(response) == "pl"
    assert "Sync your files" in html
    assert 'class="notice language-fallback"' in html
    assert client.get("/pl/kb/getting-started/no-such-article/").status_code == 404


@pytest.mark.django_db
def test_a_translated_article_lives_under_its_language(client, polish_article):
    response = client.get("/pl/kb/getting-started/sync-your-files/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Synchronizacja plików" in html
    assert "language-fallback" not in html
    assert (
        '<link rel="alternate" hreflang="pl" '
        'href="http://testserver/pl/kb/getting-started/sync-your-files/">' in html
    )
    assert (
        '<link rel="alternate" hreflang="en" '
        'href="http://testserver/kb/getting-started/sync-your-files/">' in html
    )
    assert 'hreflang="x-default" href="http://testserver/kb/getting' in html
    # not translated into Russian: no Russian alternate
    assert 'hreflang="ru"' not in html


@pytest.mark.django_db
def test_non_page_views_list_every_language_as_alternate(client):
    html = client.get("/ru/accounts/login/").content.decode()
    for code, prefix in (("en", ""), ("pl", "/pl"), ("ru", "/ru")):
        assert (
            f'<link rel="alternate" hreflang="{code}" '
            f'href="http://testserver{prefix}/accounts/login/">' in html
        )


@pytest.mark.django_db
def test_the_sitemap_lists_every_language_version(client, polish_article):
    xml = client.get("/sitemap.xml").content.decode()
    assert "<loc>http://localhost/kb/getting-started/sync-your-files/</loc>" in xml
    assert "<loc>http://localhost/pl/kb/getting-started/sync-your-files/</loc>" in xml
    assert (
        '<xhtml:link rel="alternate" hreflang="pl" '
        'href="http://localhost/pl/kb/getting-started/sync-your-files/"/>' in xml
    )


@pytest.fixture
def russian_index(article):
    """The KB index translated into Russian, its category and article not."""
    russian, _ = Locale.objects.get_or_create(language_code="ru")
    kb = KnowledgeBasePage.objects.get(locale=Locale.get_default())
    translated = kb.copy_for_translation(russian, copy_parents=True).specific
    translated.title = "База знаний"
    translated.save_revision().publish()
    return translated


@pytest.mark.django_db
def test_untranslated_pages_fall_back_for_a_signed_in_reader(
    client, make_user, russian_index, article
):
    client.force_login(make_user("carol@example.com", locale="ru"))
    # an unprefixed public page is English by its URL: off to the Russian one
    response = client.get(article.url + "?x=1")
    assert response.status_code == 302
    assert response["Location"] == "/ru" + article.url + "?x=1"
    for path in ("/ru/kb/getting-started/", "/ru" + article.url):
        response = client.get(path)
        assert response.status_code == 200, path
        assert lang_of(response) == "ru"
        assert 'class="notice language-fallback"' in response.content.decode()
