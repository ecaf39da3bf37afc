"""Attachment throughput with and without encryption at rest, in-process.

Upload = what the services do with the bytes: ``validate_upload`` (type check,
SHA-256) then ``store``'s write (encrypting while writing when on); "storage only" is the
write alone, the least favourable measure. Download = ``tickets.attachments.read_range``
(what the download view streams). Local file storage in a temporary folder (page cache
warm), so the plain download is a memory copy.

    .venv/bin/python bench/attachments.py   # writes bench/results/attachments.{json,md}
"""

import base64
import io
import json
import os
import platform
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

from tickets.attachments import (  # noqa: E402
    encrypted_content,
    read_range,
    validate_upload,
)
from tickets.models import Attachment  # noqa: E402
from tickets.storage import attachment_backend  # noqa: E402

NOTE = """\
Reading: "upload" is what an upload costs the server (validation with SHA-256, then the
write); "storage write only" and "download" have a plaintext baseline that is a
page-cache memory copy (~10 GB/s on this machine), while AES-256-GCM runs at about 2 GB/s
per core here (`cryptography`/OpenSSL), so no authenticated cipher stays within 20 % of a
memcpy. In absolute terms an encrypted 10 MB download costs a few milliseconds of CPU,
far below its network transfer time."""

SIZES = {"1 MB": 1024 * 1024, "10 MB": 10 * 1024 * 1024}
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))


def upload(data: bytes, encrypted: bool) -> Attachment:
    attachment = Attachment(original_name="bench.bin", size=len(data))
    source = io.BytesIO(data)
    if encrypted:
        content = encrypted_content(attachment, source, len(data))
    else:
        content = File(source, name="bench.bin")
    attachment.file.name = attachment_backend().save("bench/bench.bin", content)
    return attachment


def download(attachment: Attachment) -> int:
    return sum(len(piece) for piece in read_range(attachment))


def measure(data: bytes, encrypted: bool) -> dict:
    settings.ATTACHMENT_ENCRYPTION = encrypted
    ups, fulls, downs = [], [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        validate_upload(SimpleUploadedFile("bench.txt", data))
        validated = time.perf_counter()
        attachment = upload(data, encrypted)
        ups.append(time.perf_counter() - validated)
        fulls.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert download(attachment) == len(data)
        downs.append(time.perf_counter() - start)
        attachment_backend().delete(attachment.file.name)
    mb = len(data) / (1024 * 1024)
    return {
        "upload_mb_s": round(mb / min(fulls), 1),
        "storage_write_mb_s": round(mb / min(ups), 1),
        "download_mb_s": round(mb / min(downs), 1),
    }


def main():
    results = {}
    for label, size in SIZES.items():
        data = base64.b64encode(os.urandom(size * 3 // 4))[:size]  # a .txt upload
        measure(data, False)  # warm up
        plain = measure(data, False)
        encrypted = measure(data, True)
        results[label] = {
            "plain": plain,
            "encrypted": encrypted,
            "upload_overhead_pct": round(
                100 * (plain["upload_mb_s"] / encrypted["upload_mb_s"] - 1), 1
            ),
            "storage_write_overhead_pct": round(
                100
                * (plain["storage_write_mb_s"] / encrypted["storage_write_mb_s"] - 1),
                1,
            ),
            "download_overhead_pct": round(
                100 * (plain["download_mb_s"] / encrypted["download_mb_s"] - 1), 1
            ),
        }
    meta = {
        "rounds": ROUNDS,
        "statistic": "best of rounds (min time): the machine is shared, medians are noise",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "attachments.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2) + "\n"
    )
    lines = [
        "# Attachment throughput, encrypted vs plain (in-process, local storage)",
        "",
        f"Best of {ROUNDS} rounds (the 2 CPUs are shared, medians are noise); Python {meta['python']}, {meta['cpus']} CPUs "
        "(shared with other work while measured). Overhead = extra time of the "
        "encrypted path relative to the plain one; goal < 20 %.",
        "",
        "| size | upload plain MB/s | upload encrypted MB/s | overhead "
        "| storage write only: plain / encrypted, overhead "
        "| download plain MB/s | download encrypted MB/s | overhead |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, row in results.items():
        lines.append(
            f"| {label} | {row['plain']['upload_mb_s']} | "
            f"{row['encrypted']['upload_mb_s']} | {row['upload_overhead_pct']} % | "
            f"{row['plain']['storage_write_mb_s']} / "
            f"{row['encrypted']['storage_write_mb_s']}, "
            f"{row['storage_write_overhead_pct']} % | "
            f"{row['plain']['download_mb_s']} | {row['encrypted']['download_mb_s']} | "
            f"{row['download_overhead_pct']} % |"
        )
    lines += ["", NOTE]
    (out / "attachments.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
