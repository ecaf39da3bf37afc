"""Smoke crawl: what a new user meets after ``make run`` and a few clicks.

For each demo account the Django test client walks the site breadth-first from the
entry points a person would type, following the same-site links each page shows
(GET only, nothing that deletes, unpublishes or logs out). Every page must answer
below 500; every public HTML page must be a whole document with a title; a link the
site itself shows must not lead to a 404; and the crawl checks the coarse permission
lines: customers never get the agent desk, Globex never sees an Acme ticket.
"""

import re
import traceback
from collections import deque
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from tickets.models import Ticket

ROLES = [
    None,
    "admin@example.com",
    "editor@example.com",
    "supervisor@example.com",
    "agent@example.com",
    "billing.agent@example.com",
    "viewer@example.com",
    "alice@acme.example",
    "bob@acme.example",
    "carol@globex.example",
]
CUSTOMERS = {"alice@acme.example", "bob@acme.example", "carol@globex.example"}

SEEDS = [
    "/",
    "/kb/",
    "/portal/",
    "/portal/tickets/",
    "/portal/tickets/new/",
    "/account/profile/",
    "/admin/",
    "/admin/helpdesk/tickets/",
    # Wagtail draws its menu with JavaScript: the desk's other areas are seeds.
    "/admin/helpdesk/organizations/",
    "/admin/helpdesk/reports/",
]
ADMIN_SEEDS = ["/django-admin/"]

MAX_PAGES = 300
MAX_DEPTH = 3
# URLs differing only by ids or query strings are the same page with other data:
# a few of each are enough, and they keep the crawl to a few minutes.
MAX_PER_SHAPE = 2
MAX_QUERY_VARIANTS_PER_PATH = 2
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)

# GETs that change state or end the session, and admin areas that are Wagtail's own
# many-variant listings (not our code) — crawled only through their entry page.
SKIP = re.compile(
    r"logout|delete|unpublish|revert|/lock/|/unlock/|/move/|/copy/|"
    r"/admin/bulk/|"  # bulk-action URLs need the ids JavaScript adds
    r"/admin/images/\d+/generate_url|/admin/images/multiple|"
    r"/admin/images/.*/preview/|/admin/pages/\d+/history/\?|"
    r"/admin/.*/(export|history)/\?",
    re.IGNORECASE,
)


class PageParser(HTMLParser):
    """Collects ``<a href>`` targets and the ``<title>`` text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.title = ""
        self.has_html = False
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            self.has_html = True
        elif tag == "title":
            self._in_title = True
        elif tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def normalise(base: str, href: str) -> str | None:
    """The same-site path?query of ``href`` seen on ``base``, or None."""
    href = href.strip()
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
        return None
    parts = urlsplit(urljoin("http://testserver" + base, href))
    if parts.scheme not in ("http", "https") or parts.netloc not in (
        "testserver",
        "localhost",
    ):
        return None
    return urlunsplit(("", "", parts.path or "/", parts.query, ""))


def shape(url: str) -> str:
    path = urlsplit(url).path
    return re.sub(r"/(\d+|[A-Z]+-\d+|[0-9a-f-]{32,36})(?=/|$)", "/<id>", path)


def is_public(url: str) -> bool:
    return not url.startswith(("/admin/", "/django-admin/"))


def redirect_loop(client: Client, url: str, response) -> list[str]:
    """The chain of URLs if following ``response`` comes back to a URL already met
    (or takes more than MAX_REDIRECTS hops); empty when it ends."""
    chain = [url]
    while response.status_code in REDIRECTS:
        url = normalise(url, response["Location"])
        if url is None:
            return []
        if url in chain or len(chain) > MAX_REDIRECTS:
            return [*chain, url]
        chain.append(url)
        response = client.get(url)
    return []


def crawl(client: Client, seeds: list[str]):
    """Breadth-first walk; returns (visited {url: status}, problems [str])."""
    queue = deque((url, 0, "seed") for url in seeds)
    seen = set(seeds)
    shapes: dict[str, int] = {}
    query_variants: dict[str, int] = {}
    visited: dict[str, int] = {}
    problems: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        url, depth, source = queue.popleft()
        if url.startswith(settings.MEDIA_URL):
            # Media is served by the web server (or DEBUG's static()), not by the
            # test client: a link there must name a file of the default storage.
            name = unquote(url.partition("?")[0].removeprefix(settings.MEDIA_URL))
            visited[url] = 200 if default_storage.exists(name) else 404
            if visited[url] == 404:
                problems.append(f"404 {url} (no such media file) linked from {source}")
            continue
        response = client.get(url)
        visited[url] = response.status_code
        if response.status_code >= 500:
            detail = ""
            if getattr(response, "exc_info", None):
                detail = "".join(
                    traceback.format_exception(*response.exc_info)[-3:]
                ).strip()
            problems.append(
                f"{response.status_code} {url} (from {source})\n    {detail}"
            )
            continue
        if response.status_code == 404 and source != "seed":
            problems.append(f"404 {url} linked from {source}")
            continue
        if response.status_code in REDIRECTS:
            links = [response["Location"]]
            loop = redirect_loop(client, url, response)
            if loop:
                problems.append(f"redirect loop from {url} (from {source}): {loop}")
                continue
        elif response.status_code == 200 and "text/html" in response.get(
            "Content-Type", ""
        ):
            body = response.content.decode(response.charset or "utf-8", "replace")
            parser = PageParser()
            parser.feed(body)
            if is_public(url) and not (
                body.lstrip()[:15].lower() == "<!doctype html>"
                and parser.has_html
                and "</html>" in body
                and parser.title.strip()
            ):
                problems.append(f"not a whole HTML page with a <title>: {url}")
            links = parser.links
        else:
            continue
        if depth >= MAX_DEPTH:
            continue
        for href in links:
            target = normalise(url, href)
            if target is None or target in seen or SKIP.search(target):
                continue
            seen.add(target)
            key = shape(target)
            if shapes.get(key, 0) >= MAX_PER_SHAPE:
                continue
            path, _, query = target.partition("?")
            if query:
                if query_variants.get(path, 0) >= MAX_QUERY_VARIANTS_PER_PATH:
                    continue
                query_variants[path] = query_variants.get(path, 0) + 1
            shapes[key] = shapes.get(key, 0) + 1
            queue.append((target, depth + 1, url))
    return visited, problems


@pytest.mark.django_db
@pytest.mark.parametrize("email", ROLES, ids=lambda e: e or "anonymous")
def test_crawl_finds_no_broken_page(email):
    # Wagtail caches renditions (file names included); an earlier test's cache entry
    # would point into that test's own MEDIA_ROOT.
    for alias in settings.CACHES:
        caches[alias].clear()
    call_command("load_demo", verbosity=0)
    client = Client(raise_request_exception=False)
    seeds = list(SEEDS)
    if email:
        user = User.objects.get(email=email)
        client.force_login(user)
        if user.is_superuser:
            seeds += ADMIN_SEEDS

    visited, problems = crawl(client, seeds)

    acme_refs = list(
        Ticket.objects.filter(organization__slug="acme").values_list(
            "reference", flat=True
        )
    )
    assert acme_refs, "the demo has Acme tickets"
    if email in CUSTOMERS:
        for url, status in visited.items():
            if url.startswith("/admin/helpdesk/") and status == 200:
                problems.append(f"customer {email} reached the desk: {url}")
    if email == "carol@globex.example":
        for ref in acme_refs:
            for url in (f"/portal/tickets/{ref}/", f"/admin/helpdesk/tickets/{ref}/"):
                visited[url] = status = client.get(url).status_code
                if status == 200:
                    problems.append(f"carol reached Acme ticket {url}")
        for url, status in visited.items():
            if status == 200 and any(ref in url for ref in acme_refs):
                problems.append(f"carol reached {url}")

    assert len(visited) >= len(seeds)
    assert problems == [], "\n".join(problems)
