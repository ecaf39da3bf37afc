"""``/healthz``: each dependency by name, a cheap check per call, ``?deep=1`` for
deployments. Failing dependencies are real: closed ports, a file where a folder should
be, a bucket that does not exist."""

import pytest
from django.core.files.storage import FileSystemStorage

from tickets.tests.test_attachments_s3 import BUCKET, moto_endpoint  # noqa: F401


class CountingStorage(FileSystemStorage):
    """The attachment store, counting the files written through it."""

    saved: list[str] = []

    def _save(self, name, content):
        CountingStorage.saved.append(name)
        return super()._save(name, content)


@pytest.fixture
def counting_storage(settings, tmp_path):
    CountingStorage.saved = []
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "portal.tests.test_healthz.CountingStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    return tmp_path / "private"


def checks_ok(body):
    return {name: check["ok"] for name, check in body["checks"].items()}


@pytest.mark.django_db
def test_healthz_names_every_dependency_and_writes_nothing(client, counting_storage):
    for _ in range(3):
        response = client.get("/healthz")
        assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert checks_ok(body) == {
        "database": True,
        "cache": True,
        "broker": True,
        "storage": True,
    }
    assert CountingStorage.saved == []
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_deep_healthz_writes_and_deletes_one_probe(client, counting_storage):
    response = client.get("/healthz?deep=1")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert checks_ok(body) == {
        "database": True,
        "cache": True,
        "broker": True,
        "storage": True,
        "migrations": True,
    }
    assert len(CountingStorage.saved) == 1
    assert CountingStorage.saved[0].startswith("healthz/probe-")
    assert list((counting_storage / "healthz").iterdir()) == []


@pytest.mark.django_db
def test_storage_that_cannot_hold_files_is_503(client, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the attachment folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker / "private"), "base_url": None},
        },
    }
    for path in ("/healthz", "/healthz?deep=1"):
        response = client.get(path)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["storage"]["ok"] is False
        assert body["checks"]["database"] == {"ok": True, "detail": "ok"}


@pytest.mark.django_db
def test_s3_bucket_missing_is_found_by_the_cheap_check(
    client,
    settings,
    moto_endpoint,  # noqa: F811
    monkeypatch,
):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=BUCKET)
    options = {
        "bucket_name": BUCKET,
        "endpoint_url": moto_endpoint,
        "region_name": "us-east-1",
        "access_key": "testing",
        "secret_key": "testing",
        "location": "attachments",
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": options,
        },
    }
    assert client.get("/healthz").json()["checks"]["storage"] == {
        "ok": True,
        "detail": "ok",
    }
    assert client.get("/healthz?deep=1").status_code == 200
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0

    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**options, "bucket_name": "no-such-bucket"},
        },
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == {
        "ok": False,
        "detail": "ClientError",
    }


@pytest.mark.django_db
def test_redis_broker_down_is_degraded_not_unavailable(client, settings, closed_port):
    settings.Q_CLUSTER = {
        key: value for key, value in settings.Q_CLUSTER.items() if key != "orm"
    }
    settings.Q_CLUSTER["redis"] = f"redis://127.0.0.1:{closed_port}/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"] == {"ok": False, "detail": "ConnectionError"}
    assert body["checks"]["cache"]["ok"] is True


@pytest.mark.django_db
def test_unapplied_migrations_fail_the_deep_check_only(client):
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    latest = recorder.migration_qs.filter(app="portal").order_by("-id").first()
    latest.delete()
    assert client.get("/healthz").status_code == 200
    response = client.get("/healthz?deep=1")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == {
        "ok": False,
        "detail": "1 unapplied",
    }


def test_healthz_rejects_post(client, db):
    assert client.post("/healthz").status_code == 405
