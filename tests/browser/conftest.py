"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's
``live_server``. One browser per session; a fresh context (cookies) per test.

Playwright's sync API keeps an event loop running in the worker's main thread for the
rest of the session, so every later ORM call in that process needs
``DJANGO_ALLOW_ASYNC_UNSAFE``; the root conftest.py sets it for the test session (and
subprocesses that stand for production drop it).
"""

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def screenshot(page):
    """``screenshot("name")`` saves the whole page under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)

    def _shot(name: str):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return _shot


@pytest.fixture
def login_as(page, live_server):
    """Sign ``user`` in by giving the browser a session cookie made by the test client
    (the sign-in form itself is covered by the sign-up journey)."""
    from django.conf import settings
    from django.test import Client

    def _login(user):
        client = Client()
        client.force_login(user)
        page.context.clear_cookies()
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )

    return _login


#: The data migrations' own functions, in migration order: what a transactional test's
#: flush removes and every journey (and ``load_demo``, as ``make run`` calls it on a
#: migrated database) relies on. Each is idempotent or guarded below.
ROLE_DATA = [
    ("accounts.migrations.0002_roles", "create_roles"),
    ("accounts.migrations.0004_supervisors_review_accounts", "grant"),
    ("tickets.migrations.0003_helpdesk_admin_access", "grant"),
]
SITE_DATA = [  # run when the page tree is gone
    ("portal.migrations.0002_create_homepage", "create_homepage"),
    ("kb.migrations.0002_knowledge_base_and_editors", "create_knowledge_base"),
    ("kb.migrations.0006_binding_review_for_editors", "forwards"),
]


@pytest.fixture(scope="session")
def migrated_apps(django_db_setup, django_db_blocker):
    """The models as the migrations see them at their last state (what the data
    migrations ran against), built once."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    with django_db_blocker.unblock():
        return MigrationLoader(connection).project_state().apps


def _run(apps, steps):
    import importlib

    for module, function in steps:
        getattr(importlib.import_module(module), function)(apps, None)


def _wagtail_roots(apps):
    """Wagtail's own migrations' rows: the default locale, the root page and the root
    collection (wagtailcore 0002 / 0026 / 0054, at today's model shape)."""
    from django.conf import settings

    ContentType = apps.get_model("contenttypes", "ContentType")  # noqa: N806
    Locale = apps.get_model("wagtailcore", "Locale")  # noqa: N806
    Page = apps.get_model("wagtailcore", "Page")  # noqa: N806
    Collection = apps.get_model("wagtailcore", "Collection")  # noqa: N806

    locale, _ = Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
    page_type, _ = ContentType.objects.get_or_create(
        app_label="wagtailcore", model="page"
    )
    Page.objects.create(
        title="Root",
        draft_title="Root",
        slug="root",
        content_type=page_type,
        path="0001",
        depth=1,
        numchild=0,
        url_path="/",
        locale=locale,
    )
    if not Collection.objects.filter(depth=1).exists():
        Collection.objects.create(name="Root", path="0001", depth=1, numchild=0)


@pytest.fixture(autouse=True)
def _migration_data(transactional_db, migrated_apps):
    """Transactional tests empty the database after each test, data migrations'
    rows included; put them back the way the migrations make them (role groups and
    their permissions, the helpdesk's admin access, Wagtail's root, the home page
    and default site, the KB index), so that every browser test starts from a
    migrated database whatever ran before it."""
    _run(migrated_apps, ROLE_DATA)
    Page = migrated_apps.get_model("wagtailcore", "Page")  # noqa: N806
    if not Page.objects.filter(depth=1).exists():
        from django.conf import settings
        from wagtail.models import Locale, Site

        _wagtail_roots(migrated_apps)
        _run(migrated_apps, SITE_DATA)
        # historical models send no signals: drop what Wagtail cached of the old site,
        # and save the locale once through the real model so that its listeners (the
        # KB's locale-id cache) forget the flushed one
        Site.clear_site_root_paths_cache()
        Locale.objects.get(language_code=settings.LANGUAGE_CODE).save()


@pytest.fixture(autouse=True)
def _no_live_streams_on_the_wsgi_server(context):
    """``live_server`` is Django's threaded WSGI server, which collects an async
    streaming response whole before sending it: an open page's live stream would hang
    there for ever (and keep "networkidle" from coming). Pages work without their
    stream by design; live's own browser test serves them with uvicorn."""
    context.route("**/live/**", lambda route: route.abort())
