"""Screenshot pass in Debian's Chromium over the demo site: the main pages of a
customer and of an agent load without a JavaScript error, and the public pages fit a
phone's width (no sideways scrolling). Screenshots land in test-artifacts/screens/.

Run: ``.venv/bin/pytest -m browser tests/browser/test_demo_screens.py``.
"""

import pytest
from django.core.management import call_command

from accounts.models import User
from tickets.models import Ticket

from .conftest import ARTIFACTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def visit(page, url, name):
    """Open ``url`` at both widths, screenshot each; True when the phone layout
    scrolls sideways."""
    overflow = False
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        response = page.goto(url)
        assert response.status < 400, (url, response.status)
        page.wait_for_load_state("networkidle")
        path = ARTIFACTS / "screens" / f"{name}-{label}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        if label == "phone":
            overflow = page.evaluate(
                "document.documentElement.scrollWidth"
                " > document.documentElement.clientWidth + 1"
            )
    return overflow


def test_customer_and_agent_pages_render_in_chromium(page, live_server, login_as):
    call_command("load_demo", verbosity=0)
    base = live_server.url
    alice = User.objects.get(email="alice@acme.example")
    agent = User.objects.get(email="agent@example.com")
    ticket = Ticket.objects.filter(requester=alice).order_by("reference").first()
    errors, wide = [], []
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))

    for name, url in [
        ("home", "/"),
        ("kb", "/kb/"),
        ("kb-search", "/kb/search/?q=sync"),
    ]:
        if visit(page, base + url, f"anonymous-{name}"):
            wide.append(url)

    login_as(alice)
    for name, url in [
        ("dashboard", "/portal/"),
        ("tickets", "/portal/tickets/"),
        ("ticket", f"/portal/tickets/{ticket.reference}/"),
        ("new", "/portal/tickets/new/"),
        ("profile", "/account/profile/"),
    ]:
        if visit(page, base + url, f"customer-{name}"):
            wide.append(url)

    login_as(agent)
    for name, url in [
        ("dashboard", "/admin/"),
        ("inbox", "/admin/helpdesk/tickets/"),
        ("ticket", f"/admin/helpdesk/tickets/{ticket.reference}/"),
        ("reports", "/admin/helpdesk/reports/"),
    ]:
        visit(page, base + url, f"agent-{name}")

    assert errors == []
    assert wide == []
