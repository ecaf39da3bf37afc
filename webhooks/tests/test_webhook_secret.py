"""updateWebhook changes the signing secret only when asked: ``secret: null`` or no
``secret`` keeps it, ``rotateSecret: true`` generates a new one."""

import pytest

from tickets.tests.factories import QueueFactory, TicketFactory, make_customer
from webhooks import signing
from webhooks.delivery import deliver_due
from webhooks.models import Webhook, WebhookDelivery

RESULT = (
    "{ __typename ... on Webhook { id name secret } "
    "... on OperationInfo { messages { kind field message } } }"
)
CREATE = f"mutation($i: CreateWebhookInput!) {{ createWebhook(input: $i) {RESULT} }}"
UPDATE = f"mutation($i: UpdateWebhookInput!) {{ updateWebhook(input: $i) {RESULT} }}"


@pytest.fixture
def hook(integrator, as_user, receiver):
    gql = as_user(integrator)
    created = gql(
        CREATE,
        {
            "i": {
                "name": "CRM",
                "url": receiver.url,
                "events": ["ticket.created"],
                "secret": "old-secret",
            }
        },
    )["createWebhook"]
    assert created["secret"] == "old-secret"

    def update(**fields):
        return gql(UPDATE, {"i": {"id": created["id"], **fields}})["updateWebhook"]

    return update


def _deliver_one(receiver):
    TicketFactory(requester=make_customer(), queue=QueueFactory())
    assert deliver_due() == {"delivered": 1}
    request = receiver.requests[-1]
    return request.body, request.headers["X-Signature"]


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [{"secret": None}, {}], ids=["null", "absent"])
def test_a_null_or_absent_secret_keeps_the_old_one(hook, receiver, fields):
    updated = hook(name="CRM 2", **fields)
    assert (updated["name"], updated["secret"]) == ("CRM 2", "old-secret")
    assert Webhook.objects.get().secret == "old-secret"

    body, signature = _deliver_one(receiver)
    assert signing.verify("old-secret", body, signature)


@pytest.mark.django_db
def test_rotate_secret_generates_a_new_one_and_deliveries_use_it(hook, receiver):
    rotated = hook(rotateSecret=True)["secret"]
    assert rotated != "old-secret" and len(rotated) >= 32
    assert Webhook.objects.get().secret == rotated

    body, signature = _deliver_one(receiver)
    assert signing.verify(rotated, body, signature)
    assert not signing.verify("old-secret", body, signature)

    assert hook(rotateSecret=False)["secret"] == rotated  # false asks for nothing


@pytest.mark.django_db
def test_a_chosen_secret_replaces_it(hook, receiver):
    assert hook(secret="chosen-secret")["secret"] == "chosen-secret"
    body, signature = _deliver_one(receiver)
    assert signing.verify("chosen-secret", body, signature)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [{"secret": ""}, {"secret": "x" * 129}, {"secret": "new", "rotateSecret": True}],
    ids=["empty", "too-long", "both"],
)
def test_an_unclear_secret_request_is_refused_and_changes_nothing(hook, fields):
    result = hook(name="Renamed", **fields)
    assert result["__typename"] == "OperationInfo"
    [message] = result["messages"]
    assert (message["kind"], message["field"]) == ("VALIDATION", "secret")
    webhook = Webhook.objects.get()
    assert (webhook.name, webhook.secret) == ("CRM", "old-secret")
    assert WebhookDelivery.objects.count() == 0
