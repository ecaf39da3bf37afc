"""Two people, two browsers (Chromium contexts), one ticket: the customer's open page
shows the agent's reply without a reload; a second agent sees the first one's presence.
The site is served by uvicorn (``asgi_server``): server-sent events need ASGI."""

import importlib
import time

import pytest
from django.conf import settings

from tickets.tests.factories import make_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--no-first-run"],
    }


@pytest.fixture
def admin_access(transactional_db):
    """The helpdesk's admin access, as its migration grants it (flushed by
    transactional tests)."""
    from django.apps import apps as django_apps

    importlib.import_module("tickets.migrations.0003_helpdesk_admin_access").grant(
        django_apps, None
    )


def signed_in_page(browser, base, user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = browser.new_context()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base,
            }
        ]
    )
    return context.new_page()


def test_a_reply_and_presence_arrive_live(
    browser, asgi_server, admin_access, ticket, alice, agent, queue
):
    from playwright.sync_api import expect

    anna = make_agent(queue, email="anna@example.com", display_name="Anna")
    base = f"http://{asgi_server}"
    customer = signed_in_page(browser, base, alice)
    customer.goto(f"{base}/portal/tickets/{ticket.reference}/")
    first_agent = signed_in_page(browser, base, agent)
    first_agent.goto(f"{base}/admin/helpdesk/tickets/{ticket.reference}/")

    # The second agent opens the ticket: the first one is already there.
    second_agent = signed_in_page(browser, base, anna)
    second_agent.goto(f"{base}/admin/helpdesk/tickets/{ticket.reference}/")
    presence = second_agent.locator("[data-live-presence-list]")
    expect(presence).to_have_text("Alex Agent is viewing this ticket", timeout=5000)

    # The first agent types: "is replying"; then sends the reply.
    first_agent.fill("#id_body", "Please sign out and in again.")
    expect(presence).to_have_text("Alex Agent is replying", timeout=5000)
    with first_agent.expect_navigation():
        first_agent.locator("form:has(#id_body) button[type=submit]").click()
    sent = time.monotonic()

    # The customer's open page shows it within 2 s, without a reload…
    expect(customer.locator("#conversation")).to_contain_text(
        "Please sign out and in again.", timeout=2000
    )
    assert time.monotonic() - sent < 2
    # …and never anyone's presence.
    expect(customer.locator("[data-live-presence-list]")).to_be_hidden()
    assert customer.locator("[data-live-presence-list]").inner_text() == ""
    for page in (customer, first_agent, second_agent):
        page.context.close()
