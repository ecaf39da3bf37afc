"""Fixtures for the reliability suites: the helpdesk and KB fixtures of those apps'
tests, a clean cache (rate-limit counters live there) and a snapshot of what is stored,
so that a refused request can be shown to have written nothing."""

import asyncio
import os

import pytest
from django.core.cache import cache

from kb.tests.conftest import (  # noqa: F401 - fixtures re-exported
    category,
    kb_index,
    make_article,
    make_category,
)
from tickets.tests.conftest import (  # noqa: F401 - fixtures re-exported
    acme,
    agent,
    alice,
    bob,
    other_agent,
    other_queue,
    queue,
    supervisor,
    ticket,
    viewer,
)


def _event_loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Browser tests earlier in the session leave Playwright's event loop running in the
    main thread; Django then refuses ORM calls there, including the database flush
    after a transactional test. Allow them for such a test only while that loop runs."""
    if _event_loop_running():
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def stored(settings):
    """``stored()`` → (row counts of every helpdesk and KB table that user input
    reaches, sorted list of attachment files on disk)."""
    from pathlib import Path

    from kb.models import ArticleFeedback, UnansweredSearch
    from tickets.models import Attachment, Comment, Ticket, TicketEvent

    models = (
        Ticket,
        Comment,
        Attachment,
        TicketEvent,
        ArticleFeedback,
        UnansweredSearch,
    )

    def _snapshot():
        root = Path(settings.STORAGES["attachments"]["OPTIONS"]["location"])
        files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        counts = {model.__name__: model.objects.count() for model in models}
        return counts, files

    return _snapshot
