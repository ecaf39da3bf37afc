"""Settings per environment: production refuses to start without its secrets."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.settings.env import email_settings_from_url, env_bool, env_list

ROOT = Path(__file__).resolve().parents[2]
PROD_KEYS = "k1:" + base64.b64encode(b"k" * 32).decode()
CONFIGURED = {
    "SECRET_KEY": "k3y-" + "a1b2c3d4e5" * 6,
    "ALLOWED_HOSTS": "support.example.com",
}


def run_check(env_overrides: dict, *args: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        # the test session allows async-unsafe ORM calls (browser tests); production must not
        if k
        not in {
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "ATTACHMENT_ENCRYPTION",
            "ATTACHMENT_ENCRYPTION_KEYS",
            "ATTACHMENT_ENCRYPTION_KEY_FILE",
        }
    }
    env.update(env_overrides)
    return subprocess.run(
        [
            sys.executable,
            "manage.py",
            "check",
            "--settings=portal.settings.production",
            *args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_secret_key():
    result = run_check({"ALLOWED_HOSTS": "support.example.com"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_check({"SECRET_KEY": "x" * 60})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_production_passes_deploy_checks_when_configured():
    result = run_check(
        {
            "SECRET_KEY": "k3y-" + "a1b2c3d4e5" * 6,
            "ALLOWED_HOSTS": "support.example.com",
            "ATTACHMENT_ENCRYPTION_KEYS": PROD_KEYS,
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_attachment_keys():
    result = run_check(CONFIGURED)
    assert result.returncode != 0
    assert "ATTACHMENT_ENCRYPTION_KEYS (or ATTACHMENT_ENCRYPTION_KEY_FILE)" in (
        result.stderr
    )


def test_production_refuses_a_malformed_attachment_key():
    result = run_check(CONFIGURED | {"ATTACHMENT_ENCRYPTION_KEYS": "k1:c2hvcnQ="})
    assert result.returncode != 0
    assert "the key 'k1' must be 32 bytes" in result.stderr


def test_production_starts_without_keys_when_encryption_is_off_explicitly():
    result = run_check(CONFIGURED | {"ATTACHMENT_ENCRYPTION": "off"})
    assert result.returncode == 0, result.stderr


def _without_settings(env_overrides: dict) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "ATTACHMENT_ENCRYPTION",
            "ATTACHMENT_ENCRYPTION_KEYS",
            "ATTACHMENT_ENCRYPTION_KEY_FILE",
        }
    }
    return env | env_overrides


SHOW_SETTINGS = (
    "import {module}; from django.conf import settings; "
    "print(settings.SETTINGS_MODULE, settings.DEBUG)"
)


@pytest.mark.parametrize("module", ["portal.wsgi", "portal.asgi"])
def test_server_entry_points_refuse_to_start_without_settings_or_secrets(module):
    """A server started without DJANGO_SETTINGS_MODULE gets production settings, so a
    forgotten variable stops it instead of serving DEBUG pages with the dev key."""
    result = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS.format(module=module)],
        cwd=ROOT,
        env=_without_settings({"ALLOWED_HOSTS": "support.example.com"}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("module", ["portal.wsgi", "portal.asgi"])
def test_server_entry_points_default_to_production_settings(module):
    result = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS.format(module=module)],
        cwd=ROOT,
        env=_without_settings(
            {
                "SECRET_KEY": "k3y-" + "a1b2c3d4e5" * 6,
                "ALLOWED_HOSTS": "support.example.com",
                "ATTACHMENT_ENCRYPTION_KEYS": PROD_KEYS,
            }
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["portal.settings.production", "False"]


def test_manage_py_keeps_the_development_default():
    """``make run`` (runserver) and the other commands keep working without setup."""
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings; "
            "print(settings.SETTINGS_MODULE, settings.DEBUG)",
        ],
        cwd=ROOT,
        env=_without_settings({}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["portal.settings.dev", "True"]


def test_env_bool_rejects_garbage(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("FLAG")
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG") is True


def test_env_list_splits_and_strips(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example , b.example,, ")
    assert env_list("HOSTS") == ["a.example", "b.example"]


def test_email_url_parsing():
    parsed = email_settings_from_url("smtp://user%40x:p%3Ass@mail.example:2525?tls=1")
    assert parsed == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "user@x",
        "EMAIL_HOST_PASSWORD": "p:ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
    }
    assert email_settings_from_url("console://")["EMAIL_BACKEND"].endswith(
        "console.EmailBackend"
    )


def dev_setting(expression: str, *, unset: str, **env) -> str:
    """What ``expression`` (on ``settings``) prints under the dev settings in a fresh
    process, with the variable ``unset`` removed and ``env`` added."""
    code = (
        "import django;from django.conf import settings;django.setup();"
        f"print({expression})"
    )
    environ = {k: v for k, v in os.environ.items() if k != unset}
    environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.dev"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_s3_storage_only_when_bucket_is_set():
    backend = "settings.STORAGES['attachments']['BACKEND']"
    unset = "AWS_STORAGE_BUCKET_NAME"
    assert dev_setting(backend, unset=unset) == (
        "django.core.files.storage.FileSystemStorage"
    )
    assert dev_setting(backend, unset=unset, AWS_STORAGE_BUCKET_NAME="attachments") == (
        "storages.backends.s3.S3Storage"
    )


def test_test_settings_run_jobs_synchronously(settings):
    assert settings.Q_CLUSTER["sync"] is True
    assert settings.Q_CLUSTER["orm"] == "default"
    assert settings.PASSWORD_HASHERS == [
        "django.contrib.auth.hashers.MD5PasswordHasher"
    ]


def test_sessions_and_cache_follow_redis_url():
    expression = "settings.CACHES['default']['BACKEND'], settings.SESSION_ENGINE"
    assert dev_setting(expression, unset="REDIS_URL").split() == [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.contrib.sessions.backends.db",
    ]
    assert dev_setting(
        expression, unset="REDIS_URL", REDIS_URL="redis://127.0.0.1:6379/9"
    ).split() == [
        "portal.cache.FailOpenRedisCache",
        "django.contrib.sessions.backends.cached_db",
    ]
