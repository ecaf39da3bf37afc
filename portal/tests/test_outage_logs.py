"""An outage is one log line per request, not a traceback: a real gunicorn whose
database is a closed port, with production's JSON logs on stderr."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reliability.servers import closed_port, fetch, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site_without_database(tmp_path_factory):
    log = tmp_path_factory.mktemp("outage") / "stderr.log"
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/gone",
        "LOG_FORMAT": "json",
    }
    with log.open("wb") as stderr:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "portal.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                fetch(base + "/ping", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=20)


def lines_for(log: Path, request_id: str) -> list[str]:
    time.sleep(0.3)  # let the worker flush
    return [line for line in log.read_text().splitlines() if request_id in line]


@pytest.mark.parametrize("path", ["/", "/kb/", "/kb/search/?q=sync"])
def test_a_503_during_a_database_outage_logs_one_json_line(site_without_database, path):
    base, log = site_without_database
    status, headers, _body = fetch(base + path)
    assert status == 503
    request_id = headers["X-Request-ID"]
    lines = lines_for(log, request_id)
    assert len(lines) == 1, lines
    entry = json.loads(lines[0])
    assert entry["status"] == 503
    assert entry["request_id"] == request_id
    assert entry["reason"] == "database_unavailable: OperationalError"
    assert "exception" not in entry
    assert "Traceback" not in log.read_text()
