"""canonical and og:url name the host the reader asked for, not the Wagtail Site
record's ``http://localhost``."""

import re

import pytest

pytestmark = pytest.mark.django_db


def _seo_urls(html):
    canonical = re.search(r'<link rel="canonical" href="([^"]*)">', html).group(1)
    og_url = re.search(r'<meta property="og:url" content="([^"]*)">', html).group(1)
    return canonical, og_url


@pytest.mark.parametrize(
    ("host", "secure", "origin"),
    [
        ("support.example.com", True, "https://support.example.com"),
        ("127.0.0.1:8123", False, "http://127.0.0.1:8123"),
    ],
)
def test_canonical_and_og_url_follow_the_request(
    make_article, client, host, secure, origin
):
    article = make_article(summary="Resolve two edits.")
    for path in (article.url, article.get_parent().url):
        html = client.get(path, HTTP_HOST=host, secure=secure).content.decode()
        assert _seo_urls(html) == (origin + path, origin + path)
        assert "http://localhost" not in html
