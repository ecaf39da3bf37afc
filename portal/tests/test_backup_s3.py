"""``BACKUP_LOCATION=s3://bucket/prefix``: backups go to the bucket (moto's S3 server),
are listed, read back with their checksums and pruned there like in a folder."""

from datetime import UTC, datetime, timedelta

import pytest

from portal import backup
from tickets.tests.factories import make_customer
from tickets.tests.test_attachments_s3 import moto_endpoint  # noqa: F401

BUCKET = "portal-backups-test"


@pytest.fixture
def s3_store(moto_endpoint, settings, monkeypatch):  # noqa: F811
    import boto3

    for name, value in (
        ("AWS_S3_ENDPOINT_URL", moto_endpoint),
        ("AWS_S3_REGION_NAME", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ):
        monkeypatch.setenv(name, value)
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=BUCKET)
    settings.BACKUP_LOCATION = f"s3://{BUCKET}/nightly"
    settings.BACKUP_ENCRYPTION_KEY = ""
    return s3


def keys(s3) -> list[str]:
    return sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    )


@pytest.mark.django_db
def test_backups_are_written_listed_read_and_pruned_in_the_bucket(s3_store, tmp_path):
    make_customer(email="dora@example.com")
    name, manifest = backup.create_backup()

    assert keys(s3_store) == [f"nightly/{name}"]
    assert backup.list_backups() == [name]
    read, _data, archive = backup.read_archive(name, tmp_path)
    archive.close()
    assert read["checksums"] == manifest["checksums"]
    assert read["counts"]["accounts.user"] >= 1

    # fifteen more, one a day before it: 16 days hold at most 7 daily, 3 more ISO
    # weeks and 1 more month, so some fall out whatever weekday the suite runs on
    # (with eight, a Monday run kept all nine: a Sunday and a month's last day)
    taken = backup.backup_time(name)
    for days in range(1, 16):
        older = backup.backup_name(taken - timedelta(days=days), encrypted=False)
        s3_store.put_object(Bucket=BUCKET, Key=f"nightly/{older}", Body=b"x")
    expected = set(backup.to_keep([taken - timedelta(days=d) for d in range(16)]))
    deleted = backup.apply_retention()
    remaining = {backup.backup_time(k.split("/", 1)[1]) for k in keys(s3_store)}
    assert remaining == expected
    assert len(deleted) == 16 - len(expected) >= 5
    assert taken in remaining
    assert datetime.now(UTC) - taken < timedelta(minutes=10)
