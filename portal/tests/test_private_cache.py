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


def test_signed_in_pages_are_private_and_not_stored(ticket, article):
    customer, staff = Client(), Client()
    customer.force_login(ticket.requester)
    staff.force_login(make_supervisor(email="sam@example.com"))
    pages = [
        (customer, "/portal/"),
        (customer, "/portal/tickets/"),
        (customer, f"/portal/tickets/{ticket.reference}/"),
        (customer, "/portal/tickets/new/"),
        (customer, "/account/profile/"),
        (customer, "/accounts/email/"),
        (customer, "/accounts/password/change/"),
        (customer, "/accounts/2fa/"),
        (customer, article.url),
        (customer, "/kb/search/?q=sync"),
        (customer, "/graphql/?query=%7Bme%7Bemail%7D%7D"),
        (staff, "/admin/"),
        (staff, "/admin/helpdesk/tickets/"),
        (staff, f"/admin/helpdesk/tickets/{ticket.reference}/"),
        (staff, "/admin/account/"),
        (staff, "/django-admin/"),
        (staff, article.url),
    ]

    answers = [(path, client.get(path)) for client, path in pages]

    assert [path for path, r in answers if r.status_code != 200] == []
    assert [path for path, r in answers if not is_private(r)] == []
    assert "alice@example.com" in answers[10][1].text  # GraphQL answered as Alice


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


def test_a_visitor_halfway_through_sign_in_gets_private_answers(
    make_user, password, article
):
    """Signed out, but with a session that holds a half-done sign-in (the password
    was right, the TOTP code is still due): what depends on that session is private."""
    from allauth.mfa.totp.internal.auth import TOTP

    user = make_user("totp@example.com")
    TOTP.activate(user, "JBSWY3DPEHPK3PXP")
    client = Client()
    signing_in = client.post(
        "/accounts/login/", {"login": user.email, "password": password}
    )
    assert signing_in["Location"] == "/accounts/2fa/authenticate/"

    answers = [client.get("/accounts/2fa/authenticate/"), client.get(article.url)]

    assert [r.status_code for r in answers] == [200, 200]
    assert is_private(signing_in)
    assert [is_private(r) for r in answers] == [True, True]


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


@pytest.mark.parametrize(
    "given",
    [None, "", "max-age=60", "public, max-age=60", "no-cache", "private", "no-store"],
)
def test_the_header_is_what_patch_cache_control_writes(given):
    # the middleware writes the header itself when there is none (or an empty one):
    # the same text as Django's ``patch_cache_control``, which it calls otherwise
    from django.http import HttpRequest, HttpResponse
    from django.utils.cache import patch_cache_control

    from portal.middleware import PrivateCacheMiddleware

    def answer(request):
        response = HttpResponse("x")
        if given is not None:
            response["Cache-Control"] = given
        return response

    request = HttpRequest()
    request.META["HTTP_AUTHORIZATION"] = "Bearer x"
    expected = answer(request)
    patch_cache_control(expected, private=True, no_store=True)
    got = PrivateCacheMiddleware(answer)(request)
    assert got["Cache-Control"] == expected["Cache-Control"]
    # the denied twin: an anonymous answer keeps its header untouched
    anonymous = PrivateCacheMiddleware(answer)(HttpRequest())
    assert anonymous.get("Cache-Control") == given
