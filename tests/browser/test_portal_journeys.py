"""The customer's journeys through the portal in a real browser (Chromium)."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import TicketSharing, User
from tickets import services
from tickets.models import DeflectionEvent, Status, Ticket
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
    png_bytes,
)

from .site import add_article, build_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "Str0ng-and-l0ng-passphrase"  # noqa: S105 - test account


@pytest.fixture
def kb_site(db):
    kb = build_site()
    article = add_article(
        kb,
        "Reset your password",
        "Forgot your password? Reset it from the sign-in page.",
        "Open the sign-in page and choose Forgot password to get a reset link.",
    )
    return article


@pytest.fixture
def support_queue(db):
    return QueueFactory(slug="support", name="Support", is_default=True)


def test_sign_up_verify_search_file_a_ticket(
    page, live_server, kb_site, support_queue, screenshot
):
    base = live_server.url
    # sign up
    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=email]", "erin@example.org")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("form:has(input[name=password2]) [type=submit]").click()
    page.wait_for_load_state()
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    # open the verification link from the mail
    page.goto(link.group(0))
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state()
    if "/accounts/login/" in page.url:
        page.fill("input[name=login]", "erin@example.org")
        page.fill("input[name=password]", PASSWORD)
        page.locator("main form [type=submit]").first.click()
    user = User.objects.get(email="erin@example.org")
    assert user.emailaddress_set.get().verified is True

    # search the knowledge base from the portal dashboard
    page.goto(f"{base}/portal/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    page.get_by_label("Search the knowledge base").fill("password")
    page.get_by_label("Search the knowledge base").press("Enter")
    expect(page.get_by_role("link", name="Reset your password")).to_be_visible()

    # start a ticket: a suggestion appears while typing the subject
    page.goto(f"{base}/portal/tickets/new/")
    page.get_by_label("Subject").press_sequentially("Forgot my password", delay=20)
    suggestion = page.locator("#suggestions a[data-suggestion]")
    expect(suggestion).to_have_text("Reset your password")
    expect(page.locator("input[name=suggestions_shown]")).to_have_value("1")

    # file it with an attachment
    page.get_by_label("Description").fill("The reset mail never arrives.")
    page.get_by_label("Category").select_option("account")
    page.get_by_label("Attachments").set_input_files(
        [{"name": "screen.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    page.get_by_role("button", name="File ticket").click()
    ticket = Ticket.objects.get()
    expect(page).to_have_url(f"{base}/portal/tickets/{ticket.reference}/")
    expect(page.get_by_role("link", name=re.compile("screen.png"))).to_be_visible()
    event = DeflectionEvent.objects.get()
    assert (event.outcome, event.shown_count, event.ticket_id) == (
        "filed",
        1,
        ticket.pk,
    )

    # it is in the list
    page.goto(f"{base}/portal/tickets/")
    row = page.locator("table.ticket-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(ticket.reference)
    expect(row).to_contain_text("Forgot my password")
    screenshot("journey1-ticket-list")


def test_clicking_a_suggestion_counts_as_a_deflection(
    page, live_server, kb_site, login_as, screenshot
):
    login_as(make_customer())
    page.goto(f"{live_server.url}/portal/tickets/new/")
    page.get_by_label("Subject").press_sequentially("password reset", delay=20)
    suggestion = page.locator("#suggestions a[data-suggestion]")
    expect(suggestion).to_be_visible()
    # keyboard only: Tab from the subject reaches the suggestion, Enter opens it
    page.keyboard.press("Tab")
    expect(suggestion).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/reset-your-password/\?from=deflection$"))
    for _ in range(20):
        if DeflectionEvent.objects.exists():
            break
        page.wait_for_timeout(100)
    event = DeflectionEvent.objects.get()
    assert (event.outcome, event.shown_count) == ("deflected", 1)
    assert event.clicked_url.endswith("/reset-your-password/")
    screenshot("deflection-article")


def test_agent_reply_customer_replies_closes_and_rates(
    page, live_server, support_queue, login_as, screenshot
):
    build_site()
    acme = OrganizationFactory(slug="acme", ticket_sharing=TicketSharing.READ_WRITE)
    alice = make_customer(acme, display_name="Alice")
    agent = make_agent(support_queue, display_name="Alex Agent")
    ticket = TicketFactory(requester=alice, queue=support_queue, organization=acme)
    services.reply(agent, ticket, body="Please update to version 2.1.")
    services.add_internal_note(agent, ticket, body="Internal: known bug 123")

    login_as(alice)
    page.goto(f"{live_server.url}/portal/tickets/{ticket.reference}/")
    expect(page.get_by_text("Please update to version 2.1.")).to_be_visible()
    expect(page.get_by_text("Internal: known bug")).to_have_count(0)

    page.get_by_label("Your reply").fill("Updated, it works now.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Your reply was added.")).to_be_visible()
    expect(page.get_by_text("Updated, it works now.")).to_be_visible()

    page.get_by_role("button", name="My issue is solved").click()
    expect(page.locator(".ticket-header [data-status]")).to_have_text("Closed")
    screenshot("journey2-rating-form")
    page.get_by_label("4").check()
    page.get_by_label("Comment (optional)").fill("Fast and friendly.")
    page.get_by_role("button", name="Send rating").click()
    expect(page.get_by_text("Rated 4 out of 5.")).to_be_visible()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.satisfaction_rating) == (Status.CLOSED, 4)
    assert ticket.satisfaction_comment == "Fast and friendly."
    screenshot("journey2-rated-ticket")


def test_colleague_sees_shared_ticket_other_organization_gets_404(
    page, live_server, support_queue, login_as, screenshot
):
    build_site()
    acme = OrganizationFactory(slug="acme", ticket_sharing=TicketSharing.READ_WRITE)
    globex = OrganizationFactory(slug="globex", ticket_sharing=TicketSharing.NONE)
    alice = make_customer(acme, display_name="Alice")
    bob = make_customer(acme, display_name="Bob")
    carol = make_customer(globex, display_name="Carol")
    ticket = TicketFactory(
        requester=alice,
        queue=support_queue,
        organization=acme,
        subject="VPN drops every hour",
    )
    detail = f"{live_server.url}/portal/tickets/{ticket.reference}/"

    login_as(bob)
    page.goto(f"{live_server.url}/portal/")
    expect(page.locator("#org-tickets")).to_be_visible()
    page.get_by_role("link", name="VPN drops every hour").click()
    expect(page).to_have_url(detail)
    expect(page.get_by_role("button", name="Send reply")).to_be_visible()
    expect(page.get_by_role("button", name="Withdraw ticket")).to_have_count(0)
    screenshot("journey3-colleague")

    login_as(carol)
    response = page.goto(detail)
    assert response.status == 404
    page.goto(f"{live_server.url}/portal/tickets/?status=all")
    expect(page.get_by_text("VPN drops every hour")).to_have_count(0)
    screenshot("journey3-other-organization-list")


def test_phone_viewport_has_no_horizontal_scrolling_and_theme_toggles(
    page, live_server, support_queue, kb_site, login_as, screenshot
):
    acme = OrganizationFactory(slug="acme", ticket_sharing=TicketSharing.READ_WRITE)
    alice = make_customer(acme, display_name="Alice")
    bob = make_customer(acme, display_name="Bob")
    agent = make_agent(support_queue)
    ticket = TicketFactory(
        requester=alice,
        queue=support_queue,
        organization=acme,
        subject="A rather long subject line about synchronisation failures",
    )
    TicketFactory(requester=bob, queue=support_queue, organization=acme)
    services.reply(agent, ticket, body="A reply with a very-long-unbroken-word " * 3)
    login_as(alice)
    page.set_viewport_size({"width": 390, "height": 844})
    pages = {
        "dashboard": "/portal/",
        "list": "/portal/tickets/?status=all",
        "new": "/portal/tickets/new/?subject=password",
        "detail": f"/portal/tickets/{ticket.reference}/",
    }
    for name, path in pages.items():
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        screenshot(f"phone-{name}")

    # the page heading stands out from section headings on a phone
    page.goto(live_server.url + "/kb/")
    sizes = page.evaluate(
        "['h1', 'h2'].map(t => parseFloat(getComputedStyle("
        "document.querySelector(t) || document.createElement(t)).fontSize))"
    )
    assert sizes[0] >= 28 and sizes[1] < sizes[0] - 4, sizes

    # tables turn into cards: the header row is hidden, cells carry their labels
    page.goto(live_server.url + "/portal/tickets/?status=all")
    expect(page.locator("table.ticket-table thead")).to_be_hidden()

    # the theme toggle switches and remembers the choice
    html = page.locator("html")
    before = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.get_by_role("button", name="Switch colour theme").click()
    theme = html.get_attribute("data-theme")
    assert theme in ("light", "dark")
    after = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert after != before
    page.reload()
    assert html.get_attribute("data-theme") == theme
    screenshot(f"phone-list-{theme}")
