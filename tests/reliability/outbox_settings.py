"""Settings for the processes of the notification outbox suite (worker, producer,
reconciliation): the test settings with a real job broker, emails written to files
that the test reads, and short leases so that a killed worker's claims expire in
seconds. ``DATABASE_URL``, ``REDIS_URL`` (Redis broker; ORM broker without it),
``OUTBOX_MAIL_DIR`` come from the environment."""

# ruff: noqa: F403, F405
import os

from portal.settings.test import *

Q_CLUSTER = {
    "name": "outbox-test",
    "workers": 2,
    "timeout": 60,
    "retry": 90,
    "max_attempts": 1,
    "queue_limit": 50,
    "bulk": 1,
    "catch_up": False,
    "save_limit": -1,  # as in production: successful jobs leave no row
    "poll": 0.1,
    "guard_cycle": 0.2,
    "sync": False,
}
if os.environ.get("REDIS_URL"):
    Q_CLUSTER["redis"] = os.environ["REDIS_URL"]
else:
    Q_CLUSTER["orm"] = "default"

EMAIL_BACKEND = "tests.reliability.outbox_mail.SlowFileBackend"
OUTBOX_MAIL_DIR = os.environ.get("OUTBOX_MAIL_DIR", "")
OUTBOX_MAIL_DELAY = float(os.environ.get("OUTBOX_MAIL_DELAY", "0.1"))
NOTIFICATIONS_LEASE_SECONDS = float(os.environ.get("OUTBOX_LEASE_SECONDS", "3"))
NOTIFICATIONS_BACKOFF_BASE_SECONDS = 1
NOTIFICATIONS_BACKOFF_MAX_SECONDS = 2

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # How long a writer waits for SQLite's lock before "database is locked".
    DATABASES["default"]["OPTIONS"]["timeout"] = float(
        os.environ.get("OUTBOX_DB_TIMEOUT", "20")
    )
