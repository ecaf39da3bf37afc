"""The state of each dependency, for ``/healthz`` and the deployment checks.

Every check answers ``(ok, detail)`` and never raises. The cheap checks run on every
``/healthz`` call (load balancers poll it every few seconds): one ``SELECT 1``, one
cache PING, one broker PING, and a metadata read from the attachment store (no write).
``deep=True`` adds what a deployment wants to know once: a file written and deleted,
a cache write read back, and unapplied migrations.

The database and the attachment store are required: without them the site cannot
answer (``unavailable``, 503). The cache and the job broker are not: pages are served
without the cache (``portal.cache``) and queued work waits in the database outbox, so
the site is ``degraded`` but still answers 200 and stays in the load balancer.
"""

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import DEFAULT_DB_ALIAS, connections

REQUIRED = ("database", "storage")
PROBE_TIMEOUT_SECONDS = 0.5


def _failure(error: Exception) -> tuple[bool, str]:
    return False, error.__class__.__name__


def check_database() -> tuple[bool, str]:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, "ok"
    except Exception as error:  # noqa: BLE001 - reported, not raised
        return _failure(error)


def check_migrations() -> tuple[bool, str]:
    try:
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:  # noqa: BLE001
        return _failure(error)
    if plan:
        return False, f"{len(plan)} unapplied"
    return True, "ok"


def check_cache(*, deep: bool = False) -> tuple[bool, str]:
    backend = caches["default"]
    try:
        if hasattr(backend, "check"):  # portal.cache.FailOpenRedisCache
            ok, detail = backend.check()
            if not ok or not deep:
                return ok, detail
        if deep:
            key = f"healthz:{uuid.uuid4().hex}"
            backend.set(key, "ok", 10)
            found = backend.get(key)
            backend.delete(key)
            if found != "ok":
                return False, "write not read back"
        return True, "ok"
    except Exception as error:  # noqa: BLE001
        return _failure(error)


def check_broker() -> tuple[bool, str]:
    """The ORM broker is the database; Redis gets one PING with a short timeout (the
    workers' own connection waits longer, for their blocking reads)."""
    conf = settings.Q_CLUSTER
    try:
        if conf.get("orm"):
            return check_database()
        if isinstance(conf.get("redis"), str):
            import redis
            from redis.backoff import NoBackoff
            from redis.connection import parse_url
            from redis.retry import Retry

            options = parse_url(conf["redis"])
            options.update(
                socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
                socket_timeout=PROBE_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),  # redis-py retries 3 times by default
            )
            client = redis.Redis(**options)
            try:
                client.ping()
            finally:
                client.close()
            return True, "ok"
        from django_q.brokers import get_broker

        return (True, "ok") if get_broker().ping() else (False, "no answer")
    except Exception as error:  # noqa: BLE001
        return _failure(error)


def _probe_storage(storage) -> None:
    """Raise unless ``storage`` looks writable, without writing: a ``HEAD`` of the
    bucket on S3 (a missing bucket or wrong credentials fail), a look at the folder
    on disk."""
    bucket_name = getattr(storage, "bucket_name", None)
    if bucket_name:
        storage.connection.meta.client.head_bucket(Bucket=bucket_name)
        return
    location = getattr(storage, "location", None)
    if location is None:
        storage.exists("healthz/probe.txt")
        return
    folder = Path(location)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # made on the first save
    if not folder.is_dir():
        raise NotADirectoryError(str(folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(str(folder))


def check_storage(*, deep: bool = False) -> tuple[bool, str]:
    """Cheap: ``_probe_storage``. Deep: a file written and deleted."""
    try:
        storage = storages["attachments"]
        if deep:
            name = storage.save(
                f"healthz/probe-{uuid.uuid4().hex}.txt", ContentFile(b"ok")
            )
            storage.delete(name)
        else:
            _probe_storage(storage)
        return True, "ok"
    except Exception as error:  # noqa: BLE001
        return _failure(error)


def report(*, deep: bool = False) -> dict:
    """``{"status": ok|degraded|unavailable, "checks": {name: {ok, detail}}}``."""
    checks = {
        "database": check_database(),
        "cache": check_cache(deep=deep),
        "broker": check_broker(),
        "storage": check_storage(deep=deep),
    }
    if deep:
        checks["migrations"] = check_migrations()
    failing = {name for name, (ok, _detail) in checks.items() if not ok}
    if failing & {*REQUIRED, "migrations"}:
        status = "unavailable"
    elif failing:
        status = "degraded"
    else:
        status = "ok"
    return {
        "status": status,
        "checks": {
            name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()
        },
    }
