"""Attachment throughput with and without encryption at rest, in-process.

Both sides take the same path, through the whole Django stack (middleware, session,
permission check) on the same local storage, in a throwaway test database:

- upload = a customer's reply with one attached file, POSTed to the portal's reply view
  (``tickets:portal_reply``): multipart parsing, form and service validation (type
  check, SHA-256), the write (encrypting while writing when on), the rows;
- download = GET of the permission-checked download view, its streamed body consumed.

The multipart body is encoded once before timing (the client's work, not the server's).
Each round measures the four cases back to back (plain upload, encrypted upload, plain
download, encrypted download) so that load from other processes hits both sides alike;
the statistic is the median of the rounds. The two layers alone (``store``'s write and
``read_range``) are measured too, for where the remaining cost sits.

    .venv/bin/python bench/attachments.py   # writes bench/results/attachments.{json,md}
"""

import base64
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.test"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.base import File  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.client import BOUNDARY, encode_multipart  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from portal import filecrypt  # noqa: E402
from tickets.attachments import encrypted_content, read_range  # noqa: E402
from tickets.models import Attachment  # noqa: E402
from tickets.storage import attachment_backend  # noqa: E402

SIZES = {"1 MB": 1024 * 1024, "10 MB": 10 * 1024 * 1024}
ROUNDS = {"1 MB": int(os.environ.get("BENCH_ROUNDS", "31")), "10 MB": 0}
ROUNDS["10 MB"] = max(5, ROUNDS["1 MB"] // 2)
WARMUP = 2
MODES = ("plain", "encrypted")


def setup_database():
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, serialize=False)
    from tickets.tests.factories import (
        OrganizationFactory,
        QueueFactory,
        TicketFactory,
        make_customer,
    )

    organization = OrganizationFactory(name="Bench", slug="bench")
    queue = QueueFactory(slug="bench", name="Bench", is_default=True)
    customer = make_customer(organization, email="bench@example.com")
    ticket = TicketFactory(requester=customer, queue=queue, organization=organization)
    client = Client()
    client.force_login(customer)
    return client, ticket


def set_mode(mode: str) -> None:
    settings.ATTACHMENT_ENCRYPTION = mode == "encrypted"


class Elapsed(float):
    """Wall-clock seconds, carrying the CPU seconds of this thread as ``.cpu``."""

    cpu: float


def timed(function):
    cpu = time.thread_time()
    start = time.perf_counter()
    result = function()
    elapsed = Elapsed(time.perf_counter() - start)
    elapsed.cpu = time.thread_time() - cpu
    return elapsed, result


def view_upload(client, ticket, body: bytes, name: str):
    def post():
        return client.post(
            reverse("tickets:portal_reply", args=[ticket.reference]),
            data=body,
            content_type=f"multipart/form-data; boundary={BOUNDARY}",  # body pre-encoded
        )

    elapsed, response = timed(post)
    assert response.status_code == 302, response.status_code
    return elapsed, Attachment.objects.filter(original_name=name).latest("pk")


def view_download(client, attachment, size: int) -> float:
    def get():
        response = client.get(attachment.get_absolute_url())
        assert response.status_code == 200, response.status_code
        count = 0
        for piece in response.streaming_content:
            count += len(piece)
        return count

    elapsed, count = timed(get)
    assert count == size
    return elapsed


def store_only(data: bytes, mode: str) -> float:
    """``store``'s write alone: the file handed to the storage (encrypted or not)."""
    attachment = Attachment(original_name="layer.bin", size=len(data))
    source = SimpleUploadedFile("layer.bin", data)

    def write():
        content = (
            encrypted_content(attachment, source, len(data))
            if mode == "encrypted"
            else File(source, name="layer.bin")
        )
        return attachment_backend().save("bench/layer.bin", content)

    elapsed, name = timed(write)
    attachment_backend().delete(name)
    return elapsed


def read_only(attachment, size: int) -> float:
    def read():
        return sum(len(piece) for piece in read_range(attachment))

    elapsed, count = timed(read)
    assert count == size
    return elapsed


def forget(attachment) -> None:
    attachment_backend().delete(attachment.file.name)
    Attachment.objects.filter(pk=attachment.pk).delete()


def measure(client, ticket, label: str, size: int) -> dict:
    data = base64.b64encode(os.urandom(size * 3 // 4))[:size]  # a .txt upload
    name = f"bench-{size}.txt"
    body = encode_multipart(
        BOUNDARY,
        {
            "body": "See the attached log.",
            "attachments": [SimpleUploadedFile(name, data)],
        },
    )
    times = {
        f"{kind}_{mode}": []
        for kind in ("upload", "download", "write", "read")
        for mode in MODES
    }
    kept = {}
    for mode in MODES:  # the files the downloads read, checked byte for byte once
        set_mode(mode)
        _, kept[mode] = view_upload(client, ticket, body, name)
        assert bool(kept[mode].encryption_key_id) == (mode == "encrypted")
        got = b"".join(read_range(kept[mode]))
        assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    for round_ in range(WARMUP + ROUNDS[label]):
        sample = {}
        for mode in MODES:
            set_mode(mode)
            sample[f"upload_{mode}"], made = view_upload(client, ticket, body, name)
            forget(made)
        for mode in MODES:
            sample[f"download_{mode}"] = view_download(client, kept[mode], size)
        for mode in MODES:
            set_mode(mode)
            sample[f"write_{mode}"] = store_only(data, mode)
        for mode in MODES:
            sample[f"read_{mode}"] = read_only(kept[mode], size)
        if round_ >= WARMUP:
            for key, value in sample.items():
                times[key].append(value)
    for attachment in kept.values():
        forget(attachment)
    mb = size / (1024 * 1024)
    row = {"rounds": ROUNDS[label]}
    for kind in ("upload", "download", "write", "read"):
        wall = {mode: statistics.median(times[f"{kind}_{mode}"]) for mode in MODES}
        cpu = {
            mode: statistics.median(t.cpu for t in times[f"{kind}_{mode}"])
            for mode in MODES
        }
        row[kind] = {
            "plain_mb_s": round(mb / wall["plain"], 1),
            "encrypted_mb_s": round(mb / wall["encrypted"], 1),
            "plain_ms": round(1000 * wall["plain"], 2),
            "encrypted_ms": round(1000 * wall["encrypted"], 2),
            "overhead_pct": round(100 * (wall["encrypted"] / wall["plain"] - 1), 1),
            "cpu_plain_ms": round(1000 * cpu["plain"], 2),
            "cpu_encrypted_ms": round(1000 * cpu["encrypted"], 2),
            "cpu_overhead_pct": round(100 * (cpu["encrypted"] / cpu["plain"] - 1), 1),
        }
    return row


NOTE = """\
Overhead = extra time of the encrypted path relative to the plain one, medians of the
rounds; goal < 20 % for upload and download. "Wall" is elapsed time (what a client
waits, disturbed by other processes on this shared machine), "CPU" the serving thread's
CPU time (what the server pays, steadier under load). "Upload" and "download" are the real
requests (the same views, storage and database for both sides); the last two columns
time the encryption layer alone: `store`'s write and `read_range` with no request around
them. Their plaintext side is a page-cache memory copy, whereas AES-256-GCM in
`cryptography`/OpenSSL runs at about 3.5 GB/s on one core of this machine: encrypting or
decrypting 10 MB costs about 3 ms of CPU that no arrangement of the code removes, so
those layer-alone ratios stay far above 20 %. In a request that cost sits on top of the
request's own work (about 10 ms of CPU for a download: session, permission check,
queries; about 40-75 ms for an upload: multipart parsing, validation twice, SHA-256, rows):
negligible at 1 MB, under 20 % for a 10 MB upload, above it for a 10 MB download, whose
remaining extra CPU is the AES-GCM pass itself (read + decrypt vs read)."""


def main():
    client, ticket = setup_database()
    set_mode("plain")
    results = {}
    for label, size in SIZES.items():
        results[label] = measure(client, ticket, label, size)
        print(label, json.dumps(results[label]), flush=True)
    meta = {
        "statistic": "median of the rounds; each round runs both sides back to back",
        "warmup_rounds": WARMUP,
        "chunk_size": filecrypt.CHUNK_SIZE,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "attachments.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2) + "\n"
    )
    lines = [
        "# Attachment throughput, encrypted vs plain (in-process, local storage)",
        "",
        f"Median of {ROUNDS['1 MB']} (1 MB) and {ROUNDS['10 MB']} (10 MB) rounds after "
        f"{WARMUP} warm-up rounds; Python {meta['python']}, {meta['cpus']} CPUs shared "
        f"with other work (load average after the run: {meta['load_average_after']}).",
        "",
        "| size | upload view MB/s plain / encrypted | overhead (wall / CPU) "
        "| download view MB/s plain / encrypted | overhead (wall / CPU) "
        "| layer alone: write MB/s plain / encrypted, overhead "
        "| layer alone: read MB/s plain / encrypted, overhead |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, row in results.items():
        cells = [label]
        for kind in ("upload", "download"):
            cells.append(f"{row[kind]['plain_mb_s']} / {row[kind]['encrypted_mb_s']}")
            cells.append(
                f"{row[kind]['overhead_pct']} % / {row[kind]['cpu_overhead_pct']} %"
            )
        for kind in ("write", "read"):
            cells.append(
                f"{row[kind]['plain_mb_s']} / {row[kind]['encrypted_mb_s']}, "
                f"{row[kind]['overhead_pct']} %"
            )
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Median milliseconds per request (wall; CPU of the serving thread):",
        "",
    ]
    for label, row in results.items():
        for kind in ("upload", "download"):
            lines.append(
                f"- {label} {kind}: plain {row[kind]['plain_ms']} ms "
                f"(CPU {row[kind]['cpu_plain_ms']}), encrypted "
                f"{row[kind]['encrypted_ms']} ms (CPU {row[kind]['cpu_encrypted_ms']})"
            )
    lines += ["", NOTE]
    (out / "attachments.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
