"""How a delivery's body is encoded and signed, in one place, so that the sender and
the tests (and receivers reading this code) agree byte for byte."""

import hashlib
import hmac
import json

from django.core.serializers.json import DjangoJSONEncoder

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
EVENT_HEADER = "X-Webhook-Event"
ID_HEADER = "X-Webhook-Id"


def encode_body(*, event: str, event_id: str, occurred_at: str, data: dict) -> bytes:
    """The exact bytes posted: compact JSON with sorted keys."""
    envelope = {"event": event, "id": event_id, "occurredAt": occurred_at, "data": data}
    return json.dumps(
        envelope, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True
    ).encode()


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the raw body with the webhook secret>``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature or "")
