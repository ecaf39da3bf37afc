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


@pytest.fixture(autouse=True)
def _migration_data(transactional_db):
    """Transactional tests empty the database after each test, data migrations'
    rows included; put back the ones every journey relies on (role groups and the
    helpdesk's admin access), the same way the migrations make them."""
    import importlib

    from django.apps import apps as django_apps
    from django.contrib.auth.models import Group

    from accounts.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)
    importlib.import_module("tickets.migrations.0003_helpdesk_admin_access").grant(
        django_apps, None
    )


def pytest_collection_modifyitems(session, config, items):
    """The demo walk-through (test_demo_screens) loads the demo onto the migrated
    database as `make run` does, so it needs the migrations' own rows (Wagtail's root
    and default site, the KB's locales); every transactional test empties the database
    afterwards. Run it before the other browser tests, whatever their file names."""
    items.sort(key=lambda item: item.path.name != "test_demo_screens.py")
