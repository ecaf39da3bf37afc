# ruff: noqa: F405
import os
import tempfile
from pathlib import Path

from portal.logs import logging_config

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-secret-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
_tmp = Path(tempfile.mkdtemp(prefix="portal-test-"))
MEDIA_ROOT = _tmp / "media"
PRIVATE_MEDIA_ROOT = _tmp / "private"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_RATE_LIMITS = {}  # tests that check rate limits switch them on with override_settings
PORTAL_RATE_LIMITS = {}  # likewise (tests/reliability/test_rate_limits.py)
WAGTAILADMIN_BASE_URL = "http://testserver"
ALLOWED_HOSTS = ["*"]
STATIC_ROOT = _tmp / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Quiet test output: tests that read INFO lines raise the level with caplog.
LOGGING = logging_config(LOG_FORMAT, os.environ.get("LOG_LEVEL", "WARNING"))
# A fixed, public test key (not a secret): tests of the key ring override it.
ATTACHMENT_ENCRYPTION = True
ATTACHMENT_ENCRYPTION_KEYS = "test1:dGVzdC1vbmx5LWF0dGFjaG1lbnQta2V5LTMyYnl0ZXM="
ATTACHMENT_ENCRYPTION_KEY_FILE = ""
ATTACHMENT_ENCRYPTION_GENERATE_KEY_FILE = False
