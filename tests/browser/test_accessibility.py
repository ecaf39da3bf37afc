"""axe-core in Debian's Chromium: no violations on the pages a newcomer, a customer and
an agent meet first, including those issue #19 changed (KB search with results and with
none, the desk's inbox and ticket workspace, the portal's ticket page, the sign-in page
with SSO buttons, the passkey pages under /accounts/2fa/).

axe-core comes from npm, pinned in tests/browser/axe/package-lock.json (``make
axe-core`` or ``npm ci`` there), never from a CDN. It is evaluated through the DevTools
protocol, so our Content-Security-Policy stays on while the scan runs.

Run: ``.venv/bin/pytest -m browser tests/browser/test_accessibility.py``."""

from pathlib import Path

import pytest
from allauth.account.models import EmailAddress

from tickets import services
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
)

from .site import add_article, build_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0/2.1 A and AA, and axe's best practices (as the first scan ran it).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail(
            f"{AXE} is missing: run `npm ci --no-audit --no-fund` in {AXE.parents[2]}"
        )
    return AXE.read_text()


def violations(page) -> list[str]:
    """Run axe on the loaded page; one line per violation and offending node."""
    page.wait_for_load_state("networkidle")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => ({id: v.id,"
        " nodes: v.nodes.map(n => n.target.join(' '))})))",
        TAGS,
    )
    return [f"{v['id']}: {node}" for v in found for node in v["nodes"]]


def scan(page, url) -> dict:
    response = page.goto(url)
    assert response.status == 200, url
    # no redirect (to sign in, say): the page named is the page scanned
    assert page.url == url, (url, page.url)
    return {url: violations(page)}


@pytest.fixture
def world(db):
    kb = build_site()
    add_article(
        kb,
        "Reset your password",
        "Forgot your password? Reset it from the sign-in page.",
        "Open the sign-in page and choose Forgot password. We email a reset link.",
    )
    queue = QueueFactory(slug="support", name="Support", is_default=True)
    acme = OrganizationFactory(name="Acme", slug="acme")
    agent = make_agent(queue, email="agent@example.com")
    alice = make_customer(acme, email="alice@acme.example", display_name="Alice")
    EmailAddress.objects.create(
        user=alice, email=alice.email, verified=True, primary=True
    )
    ticket = TicketFactory(requester=alice, queue=queue, organization=acme)
    services.reply(agent, ticket, body="Which version do you use?")
    services.reply(alice, ticket, body="Version 2.")
    return {"agent": agent, "alice": alice, "ticket": ticket}


def test_axe_reports_a_violation_it_is_shown(live_server, page, world):
    """The scanner itself works: an image without a text alternative and an unnamed
    button added to a clean page are reported."""
    base = live_server.url
    page.goto(base + "/kb/")
    assert violations(page) == []
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend',"
        ' \'<img src="/static/favicon.ico" id="no-alt">'
        '<button id="no-name"></button>\')'
    )
    assert sorted(violations(page)) == ["button-name: #no-name", "image-alt: #no-alt"]


def test_public_pages_and_sign_in_with_sso_have_no_axe_violations(
    live_server, page, world, settings
):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "corp",
                    "name": "Corp SSO",
                    "client_id": "portal",
                    "secret": "s3cret",
                    "settings": {"server_url": "http://127.0.0.1:9/"},
                }
            ],
            "OAUTH_PKCE_ENABLED": True,
        }
    }
    base = live_server.url
    found = {}
    for path in [
        "/",
        "/kb/",
        "/kb/search/?q=how+do+I+reset+my+password",
        "/kb/search/?q=zzzqqq",
        "/accounts/login/",
        "/accounts/signup/",
    ]:
        found |= scan(page, base + path)
    assert "Sign in with Corp SSO" in page.goto(base + "/accounts/login/").text()
    assert found == {url: [] for url in found}


def test_portal_ticket_and_passkey_pages_have_no_axe_violations(
    live_server, page, world, login_as
):
    base = live_server.url
    login_as(world["alice"])
    found = {}
    for path in [
        "/portal/",
        f"/portal/tickets/{world['ticket'].reference}/",
        "/accounts/2fa/",
        "/accounts/2fa/webauthn/",
    ]:
        found |= scan(page, base + path)
    assert found == {url: [] for url in found}


def test_desk_inbox_and_workspace_have_no_axe_violations(
    live_server, page, world, login_as
):
    base = live_server.url
    login_as(world["agent"])
    found = {}
    for path in [
        "/admin/helpdesk/tickets/",
        f"/admin/helpdesk/tickets/{world['ticket'].reference}/",
    ]:
        found |= scan(page, base + path)
    assert found == {url: [] for url in found}
