"""What one visitor sees is never kept by a cache: every answer to a signed-in request
(session or API token), and every answer that signs in or out or depends on a session
the request carries, says ``Cache-Control: private, no-store``
(``portal.middleware.PrivateCacheMiddleware``). Anonymous pages keep their own headers,
so that the knowledge base's anonymous page cache and static files stay cacheable."""

import pytest
from django.core.cache import cache
from django.test import Client
from wagtail.models import Locale

from accounts import tokens
from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage
from tickets.tests.factories import (
    QueueFactory,
    TicketFactory,
    make_customer,
    make_supervisor,
)

pytestmark = pytest.mark.django_db


def directives(response) -> set[str]:
    return {
        part.strip().split("=")[0].lower()
        for part in response.get("Cache-Control", "").split(",")
        if part.strip()
    }


def is_private(response) -> bool:
    return {"private", "no-store"} <= directives(response)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def article(db):
    index = KnowledgeBasePage.objects.get(locale=Locale.get_default())
    category = CategoryPage(title="Getting started", slug="getting-started")
    index.add_child(instance=category)
    category.save_revision().publish()
    page = ArticlePage(
        title="Sync basics",
        slug="sync-basics",
        summary="How sync works.",
        audience="public",
        body=[("paragraph", "<p>Lumen keeps your files in sync.</p>")],
    )
    category.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def ticket(db):
    queue = QueueFactory(slug="support", name="Support", is_default=True)
    return TicketFactory(
        requester=make_customer(email="alice@example.com"), queue=queue
    )


def test_signed_in_customer_pages_are_private_and_not_stored(ticket, article):
    client = Client()
    client.force_login(ticket.requester)

    paths = [
        "/portal/",
        "/portal/tickets/",
        f"/portal/tickets/{ticket.reference}/",
        "/portal/tickets/new/",
        "/account/profile/",
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/2fa/",
        article.url,
        "/graphql/?query=%7Bme%7Bemail%7D%7D",
        "/kb/search/?q=sync",
    ]
    answers = {path: client.get(path) for path in paths}

    assert {path: r.status_code for path, r in answers.items()} == dict.fromkeys(
        paths, 200
    )
    assert [path for path, r in answers.items() if not is_private(r)] == []
    assert "alice@example.com" in answers["/graphql/?query=%7Bme%7Bemail%7D%7D"].text


def test_signed_in_staff_pages_are_private_and_not_stored(ticket):
    client = Client()
    client.force_login(make_supervisor(email="sam@example.com"))

    paths = [
        "/admin/",
        "/admin/helpdesk/tickets/",
        f"/admin/helpdesk/tickets/{ticket.reference}/",
        "/admin/account/",
        "/django-admin/",
    ]
    answers = {path: client.get(path) for path in paths}

    assert [path for path, r in answers.items() if r.status_code != 200] == []
    assert [path for path, r in answers.items() if not is_private(r)] == []


def test_an_api_token_answer_is_private_and_not_stored(db):
    owner = make_customer(email="integrator@example.com")
    secret = tokens.create_token(owner, name="ci", scopes="read").secret

    response = Client().get(
        "/graphql/?query=%7Bme%7Bemail%7D%7D",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )

    assert response.status_code == 200
    assert "integrator@example.com" in response.text
    assert is_private(response)


def test_signing_in_and_the_second_step_are_private(make_user, password):
    make_user("plain@example.com")
    client = Client()

    response = client.post(
        "/accounts/login/", {"login": "plain@example.com", "password": password}
    )

    assert response.status_code == 302
    assert "sessionid" in response.cookies
    assert is_private(response)


def test_a_login_halfway_through_its_second_factor_is_private(make_user, password):
    from allauth.mfa.totp.internal.auth import TOTP

    user = make_user("totp@example.com")
    TOTP.activate(user, "JBSWY3DPEHPK3PXP")
    client = Client()
    client.post("/accounts/login/", {"login": user.email, "password": password})

    response = client.get("/accounts/2fa/authenticate/")

    assert response.status_code == 200
    assert is_private(response)


def test_anonymous_pages_keep_their_cache_headers(article, settings):
    settings.KB_PAGE_CACHE_SECONDS = 300
    first = Client().get(article.url)  # rendered and stored
    second = Client().get(article.url)  # from the anonymous page cache
    home = Client().get("/")

    assert first.status_code == second.status_code == home.status_code == 200
    for response in (first, second, home):
        assert "no-store" not in directives(response)
        assert "private" not in directives(response)


def test_static_files_stay_cacheable_for_signed_in_users(settings, make_user):
    (settings.STATIC_ROOT / "private-cache-probe.css").write_text("body{}")
    client = Client()  # WhiteNoise reads STATIC_ROOT when its middleware starts
    client.force_login(make_user("reader@example.com"))

    response = client.get("/static/private-cache-probe.css")

    assert response.status_code == 200
    assert "public" in directives(response)
    assert "no-store" not in directives(response)
