"""A filing's after-commit Redis commands (``portal.after_commit``): the outbox's
wake-up (django-q's push, ``portal.jobs``) and the live event (the bus's PUBLISH) in
one round trip, through the service and the portal form; with Redis down at the
commit, nothing is lost (the outbox rows are the truth, the wake-up only a hint).

On the real Redis (database 14; the job list and the bus channel of the test's own),
with django-q's Redis broker (not run inline) and the bus on Redis."""

import json
import logging
import socket
import uuid

import pytest
import redis
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.conf import Conf
from django_q.signing import SignedPackage

from portal import jobs
from portal.notifications.dispatch import DELIVER_TASK
from portal.notifications.models import SentNotification
from tickets import services
from tickets.models import Ticket

from .portal_fixtures import *  # noqa: F403

URL = "redis://127.0.0.1:6379/14"

pytestmark = pytest.mark.django_db(transaction=True)


def _down_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{probe.getsockname()[1]}/14"


class Wiring:
    """The broker's client (its commands recorded), the job list and the bus."""

    def __init__(self, monkeypatch, settings, broker_url=URL, bus_url=URL):
        self.list_key = f"after-commit-test:{uuid.uuid4().hex}:q"
        broker = RedisBroker()
        broker.list_key = self.list_key
        broker.connection = redis.Redis.from_url(broker_url, socket_connect_timeout=1)
        self.sent = []
        execute = broker.connection.execute_command

        def recorded(*args, **options):
            self.sent.append(args[0])
            return execute(*args, **options)

        broker.connection.execute_command = recorded
        monkeypatch.setattr(jobs, "_broker", broker)
        monkeypatch.setattr(Conf, "SYNC", False)  # pushed, not run inline
        settings.LIVE_BUS_URL = bus_url
        settings.LIVE_BUS_CHANNEL = f"after-commit-test:{uuid.uuid4().hex}"
        self.plain = redis.Redis.from_url(URL)
        self.pubsub = self.plain.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(settings.LIVE_BUS_CHANNEL)
        self.pubsub.get_message(timeout=1)

    def jobs(self):
        return [
            SignedPackage.loads(raw) for raw in self.plain.lrange(self.list_key, 0, -1)
        ]

    def events(self):
        got = []
        while (message := self.pubsub.get_message(timeout=0.5)) is not None:
            got.append(json.loads(message["data"]))
        return got

    def close(self):
        self.plain.delete(self.list_key)
        self.pubsub.close()


@pytest.fixture
def wiring(monkeypatch, settings):
    made = []

    def make(**urls):
        made.append(Wiring(monkeypatch, settings, **urls))
        return made[-1]

    yield make
    for each in made:
        each.close()


def _file_through_the_service(alice, queue, alice_client):
    services.create_ticket(
        alice, subject="Printer on fire", description="D", queue=queue
    )


def _file_through_the_portal_form(alice, queue, alice_client):
    response = alice_client.post(
        "/portal/tickets/new/",
        {
            "subject": "Printer on fire",
            "description": "D",
            "category": "technical",
            "priority": "medium",
        },
    )
    assert response.status_code == 302


FILINGS = [_file_through_the_service, _file_through_the_portal_form]


@pytest.mark.parametrize("file", FILINGS)
def test_the_wake_up_and_the_live_event_go_in_one_round_trip(
    file, wiring, alice, queue, alice_client
):
    wired = wiring()
    file(alice, queue, alice_client)
    ticket = Ticket.objects.get()
    # one script on the broker's connection (loaded first on a new server)
    assert wired.sent in (["EVALSHA"], ["EVALSHA", "SCRIPT LOAD", "EVALSHA"])
    [job] = wired.jobs()
    keys = set(SentNotification.objects.values_list("idempotency_key", flat=True))
    assert job["func"] == DELIVER_TASK and set(job["args"][0]) == keys and keys
    [event] = wired.events()
    assert (event["t"], event["ticket"], event["kind"]) == (
        "event",
        ticket.pk,
        "created",
    )


@pytest.mark.parametrize("file", FILINGS)
def test_redis_down_at_the_commit_loses_nothing(
    file, wiring, alice, queue, alice_client, caplog
):
    down = _down_url()
    wired = wiring(broker_url=down, bus_url=down)
    with caplog.at_level(logging.WARNING):
        file(alice, queue, alice_client)
    # committed: the ticket and its emails, waiting for the reconciliation
    ticket = Ticket.objects.get()
    assert ticket.subject == "Printer on fire"
    statuses = list(SentNotification.objects.values_list("status", flat=True))
    assert statuses and set(statuses) == {"pending"}
    assert wired.sent == ["EVALSHA"]  # tried once, together
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("Could not queue the delivery of") for m in messages)
    assert "live: publishing to Redis failed" in messages
    assert wired.jobs() == [] and wired.events() == []


def test_a_bus_on_another_server_is_told_apart_from_the_broker(
    wiring, alice, queue, alice_client, caplog
):
    # the broker down, the bus up elsewhere: not combined, the event still goes
    wired = wiring(broker_url=_down_url())
    with caplog.at_level(logging.WARNING):
        _file_through_the_service(alice, queue, alice_client)
    ticket = Ticket.objects.get()
    assert wired.sent == ["RPUSH"]
    assert [event["ticket"] for event in wired.events()] == [ticket.pk]
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("Could not queue the delivery of") for m in messages)
    assert set(SentNotification.objects.values_list("status", flat=True)) == {"pending"}
