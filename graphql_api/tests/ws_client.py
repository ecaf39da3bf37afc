"""A graphql-transport-ws client for the subscription tests (``websockets``' sync
client), speaking the protocol as an integrator's client would."""

import json
import time
from contextlib import ExitStack

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from accounts.tokens import create_token

PROTOCOL = "graphql-transport-ws"
SUBSCRIPTION = """
subscription($filters: TicketEventFilter) {
  ticketEvents(filters: $filters) {
    id reference kind occurredAt
    event { kind oldValue newValue actor { displayName } }
    ticket { reference status comments { body isInternal } }
  }
}
"""


def secret_for(user, scopes="read"):
    return create_token(user, name="live", scopes=scopes).secret


class Subscriber:
    """A graphql-transport-ws client, as an integrator's would be."""

    def __init__(self, address, path="/graphql/", subprotocols=(PROTOCOL,)):
        self._exit = ExitStack()
        self.ws = self._exit.enter_context(
            connect(
                f"ws://{address}{path}",
                subprotocols=list(subprotocols),
                open_timeout=10,
            )
        )
        self.pings = 0

    def send(self, message):
        self.ws.send(json.dumps(message))

    def receive(self, timeout=5.0):
        """The next message other than a ping (answered with a pong)."""
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(max(deadline - time.monotonic(), 0.01)))
            if message["type"] != "ping":
                return message
            self.pings += 1
            self.send({"type": "pong"})

    def init(self, secret):
        self.send(
            {
                "type": "connection_init",
                "payload": {"Authorization": f"Bearer {secret}"},
            }
        )
        return self.receive()

    def subscribe(self, filters=None, op_id="1", query=SUBSCRIPTION):
        self.send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": {"filters": filters}},
            }
        )

    def events(self, count, timeout=5.0):
        messages = [self.receive(timeout) for _ in range(count)]
        assert [m["type"] for m in messages] == ["next"] * count, messages
        return [m["payload"]["data"]["ticketEvents"] for m in messages]

    def nothing_within(self, seconds) -> bool:
        try:
            message = self.receive(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message {message}")

    def close_code(self, timeout=5.0):
        """The code the server closed the connection with."""
        try:
            while True:
                message = self.receive(timeout)
                assert message["type"] in {"error", "complete"}, message
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None

    def close(self):
        self._exit.close()
