"""A real ASGI server (uvicorn, in a thread of the test process, on the test database),
a real Redis bus, and a small server-sent events client."""

import asyncio
import http.client
import json
import socket
import threading
import time
import uuid

import pytest
from django.conf import settings as django_settings

from tickets.tests.conftest import (  # noqa: F401 - fixtures
    acme,
    agent,
    alice,
    bob,
    other_agent,
    other_queue,
    queue,
    supervisor,
    ticket,
    viewer,
)

REDIS_DB = 7


@pytest.fixture(autouse=True, scope="session")
def _sqlite_readers_do_not_wait():
    """The live streams' calls run on a pool of threads (live.threads) that outlives
    a test and keeps its in-memory SQLite connections (Django never closes those):
    every connection these tests open reads uncommitted, so that the server's
    readers never wait on the test's writes."""
    from django.db.backends.signals import connection_created

    connection_created.connect(_read_uncommitted, dispatch_uid="live-tests-session")
    yield
    connection_created.disconnect(dispatch_uid="live-tests-session")


@pytest.fixture
def redis_bus(settings):
    """The live bus on the real Redis (DB 7), on a channel of its own: pub/sub
    channels are shared by every database number."""
    settings.LIVE_BUS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
    settings.LIVE_BUS_CHANNEL = f"live-test:{uuid.uuid4().hex}"
    return settings.LIVE_BUS_URL


@pytest.fixture
def asgi_server(transactional_db, redis_bus):
    """``portal``'s ASGI application (``portal.asgi.build_application``: the live
    responses on the shared thread, as in production, and WebSocket routed as
    ``portal.asgi`` routes it) under uvicorn on a free loopback port."""
    import uvicorn
    from asgiref.sync import sync_to_async
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connections
    from django.db.backends.signals import connection_created

    from portal.asgi import build_application

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from portal.websockets import with_websockets

    config = uvicorn.Config(
        # static files from the apps' folders, as live_server serves them; WebSocket
        # connections routed as portal.asgi routes them
        with_websockets(ASGIStaticFilesHandler(build_application())),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    loops = []
    # SQLite's shared in-memory test database locks whole tables between its
    # connections: the server's readers must not wait on the test's writes.
    connection_created.connect(_read_uncommitted, dispatch_uid="live-tests")
    _read_uncommitted(None, connections["default"])

    def run():
        loop = asyncio.new_event_loop()
        loops.append(loop)
        loop.run_until_complete(server.serve())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    # The live responses share asgiref's one process-wide thread (portal.asgi), which
    # may hold a connection from an earlier test, opened before the hook above (and
    # Django never closes an in-memory SQLite connection).
    asyncio.run_coroutine_threadsafe(
        sync_to_async(lambda: _read_uncommitted(None, connections["default"]))(),
        loops[0],
    ).result(10)
    yield f"127.0.0.1:{port}"
    # The server's own ORM thread: close its connections before the test database
    # is flushed (PostgreSQL) or dropped.
    asyncio.run_coroutine_threadsafe(
        sync_to_async(connections.close_all)(), loops[0]
    ).result(10)
    server.should_exit = True
    thread.join(15)
    connection_created.disconnect(dispatch_uid="live-tests")


def _read_uncommitted(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.execute("PRAGMA read_uncommitted = 1")


def session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"


class EventStream:
    """An open ``text/event-stream`` response, read event by event."""

    def __init__(self, address, path, cookie="", headers=None, timeout=10):
        host, port = address.split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
        self.connection.request(
            "GET",
            path,
            headers={
                "Cookie": cookie,
                "Accept": "text/event-stream",
                **(headers or {}),
            },
        )
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.last_event_id = None  # the raw ``id:`` of the last event read

    def next(self, timeout=5.0):
        """The next event as ``(name, data, id)``; comments and ``retry`` skipped.
        Raises ``TimeoutError`` when none comes in time."""
        self.connection.sock.settimeout(timeout)
        name, data, event_id = "message", [], None
        while True:
            try:
                # Through the response, which decodes the chunked body and reads
                # b"" at its last chunk: the connection itself stays open for
                # keep-alive after the server ends the stream.
                line = self.response.readline()
            except TimeoutError:
                raise TimeoutError from None
            if not line:
                raise EOFError("the stream ended")
            line = line.decode().rstrip("\n")
            if line == "":
                if data:
                    return name, json.loads("\n".join(data)), event_id
                name, data, event_id = "message", [], None
                continue
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                self.last_event_id = value
                event_id = int(value.split(".")[0])

    def events(self, count, timeout=5.0):
        return [self.next(timeout) for _ in range(count)]

    def nothing_within(self, seconds) -> bool:
        try:
            self.next(timeout=seconds)
        except TimeoutError:
            return True
        return False

    def close(self):
        self.connection.close()


@pytest.fixture
def open_stream(asgi_server):
    streams = []

    def _open(path, user=None, **kwargs):
        cookie = session_cookie(user) if user is not None else ""
        stream = EventStream(asgi_server, path, cookie, **kwargs)
        streams.append(stream)
        return stream

    yield _open
    for stream in streams:
        stream.close()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Presence and connection counts live in the (process-wide) cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
