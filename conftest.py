"""Shared fixtures for every app's tests."""

import os

import pytest

# Playwright's sync API (browser tests) leaves an event loop running in the test
# process; Django would then refuse ORM calls of every later test in that process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _english_for_each_test():
    """A request leaves its language active in the thread (Django's LocaleMiddleware
    does not reset it), and a test that rendered a page under /pl/ or /ru/, or an email
    for a Polish or Russian recipient, would leave that language to the next test in
    the same process: every test starts and ends in English."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def _media_isolation(settings, tmp_path):
    """Each test writes files to its own folders."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


@pytest.fixture
def password():
    return "correct-horse-battery"


@pytest.fixture
def make_user(db, password):
    from django.contrib.auth.models import Group

    from accounts.models import User

    def _make(email="user@example.com", *, groups=(), verified=True, **extra):
        user = User.objects.create_user(email=email, password=password, **extra)
        for name in groups:
            user.groups.add(Group.objects.get(name=name))
        if verified:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.create(
                user=user, email=email, verified=True, primary=True
            )
        return user

    return _make


@pytest.fixture(autouse=True)
def _references_start_at_one(request):
    """On PostgreSQL, ticket references come from a sequence (tickets.references),
    which a rolled-back or flushed test does not rewind: start each database test from
    HD-000001, as a fresh install does."""
    uses_db = request.node.get_closest_marker("django_db") or any(
        name in request.fixturenames
        for name in ("db", "transactional_db", "live_server", "django_db_setup")
    )
    if not uses_db:
        return
    request.getfixturevalue("django_db_setup")
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with request.getfixturevalue("django_db_blocker").unblock():
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval('tickets_reference_seq', 1, false)")


def pytest_collection_modifyitems(config, items):
    """Every transactional test outside the browser run restores the database's state
    from migrations (``serialized_rollback``) and leaves it empty behind it.

    A plain transactional test's flush re-creates content types and permissions
    (post_migrate) with new ids; a serialized-rollback test after it in the same
    process (xdist mixes them) then collides with those rows (UNIQUE on
    ``django_content_type``), and a plain test after a serialized one finds no
    permissions at all. One rule for all of them keeps every order working. The
    browser run restores what it needs with its own fixture (tests/browser/conftest.py).
    """
    for item in items:
        if item.get_closest_marker("browser"):
            continue
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        transactional = kwargs.get("transaction") or (
            "transactional_db" in getattr(item, "fixturenames", ())
            or "live_server" in getattr(item, "fixturenames", ())
        )
        if not transactional or kwargs.get("serialized_rollback"):
            continue
        kwargs.update(transaction=True, serialized_rollback=True)
        item.add_marker(
            pytest.mark.django_db(*marker.args if marker else (), **kwargs),
            append=False,
        )
