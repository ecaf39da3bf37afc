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


def _succeed():
    return "done"


def _fail():
    raise RuntimeError("broken on purpose")


@pytest.mark.django_db(transaction=True)
def test_a_successful_job_leaves_no_row_and_a_failed_one_is_kept(monkeypatch):
    """Given the project's job settings and a real queue (the ORM broker, the worker and
    the monitor as the cluster runs them, not the tests' inline mode), when one job
    succeeds and one fails, then only the failure is stored (django-q2's "Failed
    tasks"); the success leaves the queue, the failure stays for its retry as before. Keeping successes cost every job a
    locked read of the last 250, a DELETE and an INSERT; nothing reads them."""
    import multiprocessing
    import queue

    from django.conf import settings
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.models import Failure, OrmQ, Success
    from django_q.monitor import monitor
    from django_q.signing import SignedPackage
    from django_q.tasks import async_task
    from django_q.worker import worker

    from portal.settings import base

    assert base.Q_CLUSTER["save_limit"] == -1
    assert settings.Q_CLUSTER["save_limit"] == -1 and Conf.SAVE_LIMIT == -1
    monkeypatch.setattr(Conf, "SYNC", False)
    broker = get_broker()
    for func in (_succeed, _fail):
        async_task(f"{__name__}.{func.__name__}", broker=broker)
    tasks, results = queue.Queue(), queue.Queue()
    for ack_id, package in broker.dequeue():
        tasks.put({**SignedPackage.loads(package), "ack_id": ack_id})
    tasks.put("STOP")
    worker(tasks, results, multiprocessing.Value("f", -1))
    results.put("STOP")
    monitor(results, broker)
    assert Success.objects.count() == 0
    [failure] = Failure.objects.all()
    assert failure.func == f"{__name__}._fail"
    assert "broken on purpose" in failure.result
    # the success is acknowledged (off the queue); the failure stays for its retry
    assert [row.func() for row in OrmQ.objects.all()] == [f"{__name__}._fail"]
