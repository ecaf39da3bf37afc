import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# Some tests manage webhooks through the GraphQL surface, as integrators do.
from graphql_api.tests.conftest import (  # noqa: F401 - fixtures
    _fresh_cache,
    as_user,
    token_for,
)


@dataclass
class ReceivedRequest:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP endpoint on loopback that records what it gets and answers with the
    scripted status codes (then ``default_status``)."""

    url: str = ""
    requests: list = field(default_factory=list)
    script: list = field(default_factory=list)
    default_status: int = 200
    delay: float = 0.0

    def respond_with(self, *statuses: int) -> None:
        self.script.extend(statuses)


@pytest.fixture
def allow_loopback(settings):
    """Operators allow intranet receivers by name or network; the test receivers
    listen on loopback, which is otherwise refused."""
    settings.WEBHOOKS_ALLOWED_HOSTS = ["127.0.0.0/8"]


@pytest.fixture
def receiver(allow_loopback):
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            state.requests.append(
                ReceivedRequest(self.path, dict(self.headers.items()), body)
            )
            if state.delay:
                time.sleep(state.delay)
            status = state.script.pop(0) if state.script else state.default_status
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def integrator(db):
    """An administrator: may manage webhooks and sees every ticket."""
    from accounts.models import User

    return User.objects.create_superuser(
        email="integrator@example.com", password="integrator-password"
    )


@pytest.fixture
def make_webhook(db, integrator, allow_loopback):
    from webhooks.models import Webhook

    def _make(url="http://127.0.0.1:9/hook", events=("ticket.created",), **extra):
        extra.setdefault("name", "Integration")
        extra.setdefault("secret", "s3cret-value")
        extra.setdefault("owner", integrator)
        return Webhook.objects.create(url=url, events=list(events), **extra)

    return _make
