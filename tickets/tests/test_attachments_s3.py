"""The S3 path of attachments, against a local moto server (no network, no AWS)."""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from accounts.models import SecurityEvent
from portal import filecrypt
from tickets import services
from tickets.models import Attachment

from .factories import make_customer, png_bytes, upload

BUCKET = "portal-attachments-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint():
    port = _free_port()
    moto_server = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        else:
            pytest.fail("moto_server did not start")
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3_storage(moto_endpoint, settings, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": moto_endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 60,
                "file_overwrite": False,
                "location": "attachments",
            },
        },
    }
    return client


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_s3_encrypted_bucket_holds_only_ciphertext_and_the_view_streams_it(
    s3_storage, client, ticket, alice
):
    secret = b"".join(b"TOP SECRET row %06d\n" % i for i in range(30000))  # 3 chunks
    services.reply(alice, ticket, body="see", attachments=[upload("plan.txt", secret)])
    attachment = Attachment.objects.get()
    key = f"attachments/{attachment.file.name}"
    stored = s3_storage.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert b"TOP SECRET" not in stored
    assert stored.startswith(filecrypt.MAGIC)
    assert attachment.encryption_key_id == "test1"

    client.force_login(alice)
    response = client.get(attachment.get_absolute_url())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == secret
    response = client.get(
        attachment.get_absolute_url(), headers={"Range": "bytes=262100-262199"}
    )
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 262100-262199/{len(secret)}"
    assert b"".join(response.streaming_content) == secret[262100:262200]

    client.force_login(make_customer())
    assert client.get(attachment.get_absolute_url()).status_code == 404


def test_s3_tampered_object_is_refused(s3_storage, client, ticket, alice):
    services.reply(
        alice, ticket, body="see", attachments=[upload("plan.txt", b"TOP SECRET\n")]
    )
    attachment = Attachment.objects.get()
    key = f"attachments/{attachment.file.name}"
    stored = bytearray(s3_storage.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    stored[-1] ^= 0x01
    s3_storage.put_object(Bucket=BUCKET, Key=key, Body=bytes(stored))
    client.force_login(alice)
    response = client.get(attachment.get_absolute_url())
    assert response.status_code == 500
    assert b"TOP SECRET" not in response.content
    assert SecurityEvent.objects.filter(kind="attachment_tampered").count() == 1


def test_s3_download_redirects_to_a_short_lived_signed_url(
    s3_storage, client, ticket, alice, settings
):
    """Plaintext objects (written with ATTACHMENT_ENCRYPTION=off) keep the redirect."""
    settings.ATTACHMENT_ENCRYPTION = False
    data = png_bytes(2, 2)
    services.reply(alice, ticket, body="see", attachments=[upload("shot.png", data)])
    attachment = Attachment.objects.get()
    key = f"attachments/{attachment.file.name}"
    stored = s3_storage.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert stored == data

    client.force_login(alice)
    response = client.get(attachment.get_absolute_url())
    assert response.status_code == 302
    signed = response["Location"]
    assert "Signature=" in signed or "X-Amz-Signature=" in signed
    assert "Expires=" in signed or "X-Amz-Expires=60" in signed
    assert _get(signed) == (200, data)

    parts = urlsplit(signed)
    unsigned = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    assert _get(unsigned)[0] == 403


def test_s3_download_is_denied_like_a_missing_file(s3_storage, client, ticket, alice):
    services.reply(
        alice, ticket, body="see", attachments=[upload("a.png", png_bytes())]
    )
    attachment = Attachment.objects.get()
    client.force_login(make_customer())
    assert client.get(attachment.get_absolute_url()).status_code == 404


def test_s3_an_upload_encrypted_on_receipt_is_streamed_to_the_bucket(
    s3_storage, settings, tmp_path, client, ticket, alice
):
    """Over FILE_UPLOAD_MAX_MEMORY_SIZE: the handler's ciphertext temporary file is
    streamed to the bucket, then gone; no plaintext on disk or in the bucket."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    temp = tmp_path / "upload-tmp"
    temp.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(temp)
    secret = b"".join(b"TOP SECRET row %07d\n" % i for i in range(130000))  # 2.6 MB
    client.force_login(alice)
    response = client.post(
        reverse("tickets:portal_reply", args=[ticket.reference]),
        {"body": "log", "attachments": [SimpleUploadedFile("big.txt", secret)]},
    )
    assert response.status_code == 302
    assert list(temp.iterdir()) == []
    attachment = Attachment.objects.get()
    stored = s3_storage.get_object(
        Bucket=BUCKET, Key=f"attachments/{attachment.file.name}"
    )["Body"].read()
    assert b"TOP SECRET" not in stored
    assert len(stored) == filecrypt.encrypted_size(len(secret))
    response = client.get(attachment.get_absolute_url())
    assert b"".join(response.streaming_content) == secret
    response = client.get(
        attachment.get_absolute_url(), headers={"Range": "bytes=2000000-2000099"}
    )
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == secret[2000000:2000100]
