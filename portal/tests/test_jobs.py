"""The site-wide scheduled jobs: each gives the same state when run twice."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts import tasks as accounts_tasks
from accounts.models import ApiToken
from portal import tasks
from portal.schedules import SCHEDULES


@pytest.mark.parametrize("job", SCHEDULES, ids=lambda job: job.name)
def test_every_schedule_points_at_a_callable(job):
    module, _, name = job.func.rpartition(".")
    assert callable(getattr(import_module(module), name))
    assert (job.minutes is None) != (job.cron is None)


def test_webhooks_are_processed_every_minute():
    [job] = [job for job in SCHEDULES if job.name == "webhooks-process"]
    assert (job.func, job.minutes) == (
        "webhooks.tasks.process_webhooks",
        1,
    )


@pytest.mark.django_db
def test_clear_expired_sessions_twice(make_user):
    live = SessionStore()
    live["x"] = 1
    live.create()
    dead = SessionStore()
    dead["x"] = 1
    dead.create()
    Session.objects.filter(session_key=dead.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    tasks.clear_expired_sessions()
    tasks.clear_expired_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == [
        live.session_key
    ]


@pytest.mark.django_db
def test_purge_api_tokens_twice(make_user, settings):
    settings.API_TOKENS_RETENTION_DAYS = 30
    owner = make_user()
    now = timezone.now()

    def token(prefix, **extra):
        return ApiToken.objects.create(
            owner=owner, name=prefix, prefix=prefix, secret_hash="x", **extra
        )

    token("revoked-old", revoked_at=now - timedelta(days=31))
    token("expired-old", expires_at=now - timedelta(days=31))
    kept = {
        token("active").prefix,
        token("revoked-recent", revoked_at=now - timedelta(days=29)).prefix,
        token("expired-recent", expires_at=now - timedelta(days=29)).prefix,
        token("expires-later", expires_at=now + timedelta(days=400)).prefix,
    }
    assert accounts_tasks.purge_api_tokens(now=now) == 2
    assert accounts_tasks.purge_api_tokens(now=now) == 0
    assert set(ApiToken.objects.values_list("prefix", flat=True)) == kept
