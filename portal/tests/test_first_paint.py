"""Lighthouse's costs on public pages: HTML is sent compressed, and no script blocks the
first paint (the theme's pre-paint line is inline, allowed by its CSP hash)."""

import base64
import gzip
import hashlib
import re

import pytest

pytestmark = pytest.mark.django_db


def _head(html):
    return html.split("</head>", 1)[0]


def test_html_is_gzip_compressed_for_clients_that_accept_it(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_ENCODING="gzip, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    html = gzip.decompress(response.content).decode()
    assert html.startswith("<!DOCTYPE html>")
    assert len(response.content) < len(html.encode()) / 2


def test_html_is_plain_for_clients_that_do_not_accept_gzip(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")
    assert response.content.decode().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("path", ["/", "/accounts/login/"])
def test_no_script_in_head_blocks_rendering(client, path):
    head = _head(client.get(path).content.decode())
    external = re.findall(r"<script src=\"[^\"]+\"([^>]*)>", head)
    assert len(external) == 2  # theme.js and the JavaScript catalogue
    assert all("defer" in attributes for attributes in external)


def test_inline_theme_script_is_allowed_by_its_csp_hash_and_nothing_else_inline(
    client,
):
    response = client.get("/accounts/login/")
    inline = re.findall(r"<script>(.*?)</script>", response.content.decode(), re.S)
    assert len(inline) == 1
    assert 'localStorage.getItem("theme")' in inline[0]
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    script_src = re.search(r"script-src ([^;]+)", response["Content-Security-Policy"])
    assert script_src.group(1).split() == ["'self'", f"'sha256-{digest}'"]
