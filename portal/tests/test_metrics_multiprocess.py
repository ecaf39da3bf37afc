"""Under gunicorn with several workers, ``/metrics`` adds up every worker's counts
(``PROMETHEUS_MULTIPROC_DIR``), whichever worker answers the scrape. The database is
a closed port here: the series read from it are left out, the scrape still answers."""

import os
import subprocess
import sys
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.reliability.servers import closed_port, fetch, free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "multiprocess-token"


def ping_count(base) -> float:
    status, _headers, body = fetch(
        base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if (
                sample.name == "portal_http_requests_total"
                and sample.labels.get("route") == "ping"
            ):
                return sample.value
    return 0.0


def test_every_workers_requests_are_counted(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/gone",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "METRICS_TOKEN": TOKEN,
    }
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--config",
            str(ROOT / "docs" / "gunicorn.conf.py"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                fetch(base + "/ping", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(3)  # probes sent while workers booted may still be answered
        before = ping_count(base)
        for _ in range(60):
            assert fetch(base + "/ping")[0] == 200
        writers = {p.name.rsplit("_", 1)[-1] for p in metrics_dir.glob("counter_*.db")}
        assert len(writers) >= 2, writers  # several workers answered
        for _ in range(5):  # whichever worker answers the scrape
            assert ping_count(base) - before == 60
    finally:
        process.terminate()
        process.wait(timeout=20)
