"""``SENTRY_DSN`` switches on error reporting (off by default); events carry the
request id. A real HTTP receiver stands in for Sentry."""

import gzip
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE = (
    "import django;django.setup();import sentry_sdk;from portal import logs;"
    "logs.context.set({'request_id': 'req-sentry-42'});"
    "print(sentry_sdk.get_client().is_active());"
    "sentry_sdk.capture_message('backup verification failed');sentry_sdk.flush(5)"
)


@pytest.fixture
def receiver():
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append(body.decode(errors="replace"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()


def run(env):
    environ = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
    environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.dev"
    return subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_sentry_is_off_without_a_dsn(receiver):
    _port, received = receiver
    result = run({})
    assert result.stdout.strip() == "False", result.stderr[-2000:]
    assert received == []


def test_sentry_dsn_sends_events_tagged_with_the_request_id(receiver):
    port, received = receiver
    result = run({"SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/7"})
    assert result.stdout.strip() == "True", result.stderr[-2000:]
    assert len(received) == 1
    assert "backup verification failed" in received[0]
    assert '"request_id":"req-sentry-42"' in received[0].replace(" ", "")
