"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's
``live_server``. One browser per session; a fresh context (cookies) per test.

Playwright's sync API keeps an event loop running in the main thread, so Django's ORM
calls in these tests need ``DJANGO_ALLOW_ASYNC_UNSAFE``. It is set when the first
browser test starts, not when this file is imported: set at collection it would leak
into every test of the session, and into subprocesses such as the production
``check --deploy`` test, which rightly refuses it (pytest-django runs tests without a
database after the transactional ones). So it is set for each browser test and removed
after it.
"""

import os
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session", autouse=True)
def _async_unsafe_for_session_teardown(django_db_setup):
    """The test database is destroyed at the very end, while Playwright's loop may
    still run: allow it then too (nothing else runs after that)."""
    yield
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


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
