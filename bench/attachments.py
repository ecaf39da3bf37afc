"""Attachment throughput with and without encryption at rest, in-process.

Over 400 lines on purpose: one benchmark script with its three measures, child mode and
report, kept in one file so it runs as a single command.

Both sides take the same path, through the whole Django stack (middleware, session,
permission check) on the same local storage, in a throwaway SQLite database:

- upload = a customer's reply with one attached file, POSTed to the portal's reply view
  (``tickets:portal_reply``): multipart parsing (the encrypting upload handler when on,
  Django's memory/temporary-file handlers when off), form and service validation, the
  write (a move of the temporary file above FILE_UPLOAD_MAX_MEMORY_SIZE), the rows;
- download = GET of the permission-checked download view, its streamed body consumed.

Three measures, each a median over interleaved rounds (plain and encrypted back to
back, so that load from other processes hits both sides alike):

- wall time (what a client waits; disturbed by the other work on this shared machine);
- CPU time of the serving thread (``time.thread_time``: what the server pays);
- instructions executed, counted by ``valgrind --tool=callgrind`` in a child process:
  each measured request runs inside ``sys.call_tracing`` and callgrind collects only
  inside that C function (``--toggle-collect``) and dumps after each call, so every
  request gets its own exact count, independent of the machine's load.

    .venv/bin/python bench/attachments.py   # writes bench/results/attachments.{json,md}
    BENCH_CALLGRIND=0 ... skips the instruction counts; BENCH_ROUNDS=N sets the rounds.
"""

import base64
import glob
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.test"
WORK = Path(tempfile.gettempdir()) / "bench-attachments"
TEMPLATE_DB = WORK / "template.sqlite3"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{WORK / 'work.sqlite3'}")

SIZES = {"1 MB": 1024 * 1024, "10 MB": 10 * 1024 * 1024}
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "21"))
CALLGRIND_ROUNDS = int(os.environ.get("BENCH_CALLGRIND_ROUNDS", "3"))
WARMUP = 2
MODES = ("plain", "encrypted")
KINDS = ("upload", "download")
CHILD = "--callgrind-child"


def prepare_database() -> None:
    """A migrated template database (made once), copied fresh for every run."""
    WORK.mkdir(parents=True, exist_ok=True)
    if not TEMPLATE_DB.exists():
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            cwd=ROOT,
            check=True,
            env={**os.environ, "DATABASE_URL": f"sqlite:///{TEMPLATE_DB}"},
        )
    shutil.copy(TEMPLATE_DB, os.environ["DATABASE_URL"].removeprefix("sqlite:///"))


def setup():
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment

    from tickets.tests.factories import (
        OrganizationFactory,
        QueueFactory,
        TicketFactory,
        make_customer,
    )

    setup_test_environment()
    settings.FILE_UPLOAD_TEMP_DIR = str(WORK / "upload-tmp")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir(exist_ok=True)
    organization = OrganizationFactory(name="Bench", slug="bench")
    queue = QueueFactory(slug="bench", name="Bench", is_default=True)
    customer = make_customer(organization, email="bench@example.com")
    ticket = TicketFactory(requester=customer, queue=queue, organization=organization)
    client = Client()
    client.force_login(customer)
    return client, ticket


def set_mode(mode: str) -> None:
    from django.conf import settings

    settings.ATTACHMENT_ENCRYPTION = mode == "encrypted"


class Bench:
    """The four operations for one file size, each a zero-argument callable."""

    def __init__(self, client, ticket, size: int):
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.test.client import BOUNDARY, encode_multipart
        from django.urls import reverse

        self.client, self.size = client, size
        self.data = base64.b64encode(os.urandom(size * 3 // 4))[:size]  # a .txt file
        self.name = f"bench-{size}.txt"
        self.body = encode_multipart(  # the client's work, done once before timing
            BOUNDARY,
            {
                "body": "See the attached log.",
                "attachments": [SimpleUploadedFile(self.name, self.data)],
            },
        )
        self.content_type = f"multipart/form-data; boundary={BOUNDARY}"
        self.url = reverse("tickets:portal_reply", args=[ticket.reference])
        self.kept = {}
        for mode in MODES:  # the files the downloads read, checked byte for byte
            set_mode(mode)
            self.kept[mode] = self.upload()
            assert bool(self.kept[mode].encryption_key_id) == (mode == "encrypted")
            assert self.download(mode, check=True) == self.size

    def upload(self):
        from tickets.models import Attachment

        response = self.client.post(
            self.url, data=self.body, content_type=self.content_type
        )
        assert response.status_code == 302, response.status_code
        return Attachment.objects.filter(original_name=self.name).latest("pk")

    def download(self, mode: str, check: bool = False) -> int:
        response = self.client.get(self.kept[mode].get_absolute_url())
        assert response.status_code == 200, response.status_code
        if check:
            got = b"".join(response.streaming_content)
            assert hashlib.sha256(got).digest() == hashlib.sha256(self.data).digest()
            return len(got)
        count = 0
        for piece in response.streaming_content:
            count += len(piece)
        assert count == self.size
        return count

    def operation(self, kind: str, mode: str):
        if kind == "download":
            return lambda: self.download(mode)

        def upload_and_forget():
            set_mode(mode)
            made = self.upload()
            made.file.storage.delete(made.file.name)
            type(made).objects.filter(pk=made.pk).delete()

        return upload_and_forget


def measure_times(benches) -> dict:
    times = {
        (label, kind, mode): [] for label in benches for kind in KINDS for mode in MODES
    }
    for round_ in range(WARMUP + ROUNDS):
        for label, bench in benches.items():
            for kind in KINDS:
                order = MODES if round_ % 2 else MODES[::-1]  # alternate who goes first
                for mode in order:
                    operation = bench.operation(kind, mode)
                    cpu = time.thread_time()
                    wall = time.perf_counter()
                    operation()
                    wall = time.perf_counter() - wall
                    cpu = time.thread_time() - cpu
                    if round_ >= WARMUP:
                        times[(label, kind, mode)].append((wall, cpu))
    return times


def callgrind_child() -> None:
    """Runs under valgrind: each measured operation inside ``sys.call_tracing``."""
    client, ticket = setup()
    benches = {label: Bench(client, ticket, size) for label, size in SIZES.items()}
    order = []
    for round_ in range(1 + CALLGRIND_ROUNDS):  # round 0 warms caches, not counted
        for label, bench in benches.items():
            for kind in KINDS:
                for mode in MODES if round_ % 2 else MODES[::-1]:
                    operation = bench.operation(kind, mode)
                    if round_ == 0:
                        operation()
                        continue
                    sys.call_tracing(operation, ())
                    order.append([label, kind, mode])
    Path(os.environ["BENCH_ORDER_FILE"]).write_text(json.dumps(order))


def measure_instructions() -> dict | None:
    if os.environ.get("BENCH_CALLGRIND", "1") == "0" or not shutil.which("valgrind"):
        return None
    out = WORK / "callgrind"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    prepare_database()
    order_file = out / "order.json"
    subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=sys_call_tracing",
            "--dump-after=sys_call_tracing",
            f"--callgrind-out-file={out}/cg.out",
            sys.executable,
            __file__,
            CHILD,
        ],
        cwd=ROOT,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0", "BENCH_ORDER_FILE": str(order_file)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    order = json.loads(order_file.read_text())
    dumps = sorted(
        (p for p in glob.glob(f"{out}/cg.out.*") if p.rsplit(".", 1)[1].isdigit()),
        key=lambda p: int(p.rsplit(".", 1)[1]),
    )
    assert len(dumps) == len(order), (len(dumps), len(order))
    counts: dict = {}
    for path, (label, kind, mode) in zip(dumps, order, strict=True):
        total = None
        for line in Path(path).read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                total = int(line.split()[1])
        counts.setdefault((label, kind, mode), []).append(total)
    return counts


def pct(encrypted: float, plain: float) -> float:
    return round(100 * (encrypted / plain - 1), 1)


def summarise(times, counts) -> dict:
    results = {}
    for label, size in SIZES.items():
        mb = size / (1024 * 1024)
        results[label] = {}
        for kind in KINDS:
            wall = {
                m: statistics.median(w for w, _ in times[(label, kind, m)])
                for m in MODES
            }
            cpu = {
                m: statistics.median(c for _, c in times[(label, kind, m)])
                for m in MODES
            }
            row = {
                "plain_mb_s": round(mb / wall["plain"], 1),
                "encrypted_mb_s": round(mb / wall["encrypted"], 1),
                "wall_plain_ms": round(1000 * wall["plain"], 2),
                "wall_encrypted_ms": round(1000 * wall["encrypted"], 2),
                "wall_overhead_pct": pct(wall["encrypted"], wall["plain"]),
                "cpu_plain_ms": round(1000 * cpu["plain"], 2),
                "cpu_encrypted_ms": round(1000 * cpu["encrypted"], 2),
                "cpu_overhead_pct": pct(cpu["encrypted"], cpu["plain"]),
                "cpu_plain_mb_s": round(mb / cpu["plain"], 1),
                "cpu_encrypted_mb_s": round(mb / cpu["encrypted"], 1),
            }
            if counts:
                ir = {m: statistics.median(counts[(label, kind, m)]) for m in MODES}
                row.update(
                    {
                        "instructions_plain": int(ir["plain"]),
                        "instructions_encrypted": int(ir["encrypted"]),
                        "instructions_overhead_pct": pct(ir["encrypted"], ir["plain"]),
                        "instructions_spread": {
                            m: [
                                min(counts[(label, kind, m)]),
                                max(counts[(label, kind, m)]),
                            ]
                            for m in MODES
                        },
                    }
                )
            results[label][kind] = row
    return results


NOTE = """\
Overhead = extra cost of the encrypted path relative to the plain one (median of the
rounds); goal < 20 % for upload and download. Wall time is what a client waits and is
disturbed by the other work on this shared 2-core machine; CPU time is the serving
thread's (steadier); the instruction count (callgrind) is exact and repeatable whatever
the load (its min-max over the rounds is in the JSON), but it sees user-space
instructions only (a copy inside the kernel's read costs it nothing) and counts one wide
AES-NI/PCLMUL instruction like one step of Python's interpreter: read it beside CPU time.

What each side does. Upload, plain: Django's handlers keep a 1 MB file in memory (the
storage writes it) and write a 10 MB one to a plaintext temporary file (the storage moves
it); validation then re-reads it for the SHA-256 and the type checks. Upload, encrypted:
the encrypting upload handler hashes, checks and encrypts each 64 KiB chunk as it
arrives, into memory (1 MB) or a ciphertext temporary file (10 MB) that the storage
moves; validation uses what was computed on receipt. Download: plain reads the file in
256 KiB pieces; encrypted reads 1 MiB of records at a time into one buffer and
AES-256-GCM-decrypts each record (about 7 GB/s on one core here)."""


def write_results(results, meta) -> None:
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "attachments.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2) + "\n"
    )
    has_ir = "instructions_plain" in results["1 MB"]["upload"]
    lines = [
        "# Attachment throughput, encrypted vs plain (in-process, local storage)",
        "",
        f"Median of {meta['rounds']} rounds (wall, CPU) after {WARMUP} warm-up rounds"
        + (
            f", and of {meta['callgrind_rounds']} round(s) under callgrind (instructions)"
            if has_ir
            else ""
        )
        + f"; Python {meta['python']}, {meta['cpus']} CPUs shared with other work "
        f"(load average before / after the timed rounds: {meta['load_average_before']}"
        f" / {meta['load_average_after']}).",
        "",
        "| size | operation | MB/s plain / encrypted (wall) | wall overhead "
        "| CPU ms plain / encrypted | CPU overhead "
        "| instructions plain / encrypted (M) | instruction overhead |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, rows in results.items():
        for kind, row in rows.items():
            ir = (
                f"{row['instructions_plain'] / 1e6:.1f} / "
                f"{row['instructions_encrypted'] / 1e6:.1f} | "
                f"**{row['instructions_overhead_pct']} %**"
                if has_ir
                else "n/a | n/a"
            )
            lines.append(
                f"| {label} | {kind} | {row['plain_mb_s']} / {row['encrypted_mb_s']} "
                f"| {row['wall_overhead_pct']} % "
                f"| {row['cpu_plain_ms']} / {row['cpu_encrypted_ms']} "
                f"| {row['cpu_overhead_pct']} % | {ir} |"
            )
    lines += ["", NOTE]
    (out / "attachments.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


COUNTS_FILE = WORK / "instructions.json"
TIMES_FILE = WORK / "times.json"


def _save(path: Path, data: dict) -> None:
    path.write_text(json.dumps([[list(k), v] for k, v in data.items()]))


def _load(path: Path) -> dict | None:
    if not path.exists():
        return None
    return {tuple(k): v for k, v in json.loads(path.read_text())}


def main():
    """No argument: everything in turn. ``--instructions`` / ``--times`` run one
    measure and keep it under $TMPDIR/bench-attachments (the two can run at the same
    time); ``--combine`` writes the results from what was kept."""
    if CHILD in sys.argv:
        callgrind_child()
        return
    every = not {"--instructions", "--times", "--combine"} & set(sys.argv)
    if every or "--instructions" in sys.argv:
        counts = measure_instructions()
        if counts:
            _save(COUNTS_FILE, counts)
    if every or "--times" in sys.argv:
        prepare_database()
        client, ticket = setup()
        benches = {label: Bench(client, ticket, size) for label, size in SIZES.items()}
        before = [round(x, 2) for x in os.getloadavg()]
        times = measure_times(benches)
        _save(TIMES_FILE, times)
        (WORK / "load.json").write_text(
            json.dumps([before, [round(x, 2) for x in os.getloadavg()]])
        )
    if every or "--combine" in sys.argv:
        from portal import filecrypt

        times, counts = _load(TIMES_FILE), _load(COUNTS_FILE)
        before, after = json.loads((WORK / "load.json").read_text())
        meta = {
            "statistic": "median of interleaved rounds (plain and encrypted back to back)",
            "warmup_rounds": WARMUP,
            "rounds": len(times[("1 MB", "upload", "plain")]),
            "callgrind_rounds": len(counts[("1 MB", "upload", "plain")])
            if counts
            else 0,
            "chunk_size": filecrypt.CHUNK_SIZE,
            "read_size": filecrypt.READ_SIZE,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_before": before,
            "load_average_after": after,
        }
        write_results(summarise(times, counts), meta)


if __name__ == "__main__":
    main()
