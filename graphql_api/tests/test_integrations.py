"""Webhook management through GraphQL: owner-scoped, write tokens only."""

import pytest
from django.contrib.auth.models import Permission

from webhooks.models import Webhook

FIELDS = "id name url events includeInternalNotes active secret"
CREATE = (
    "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { __typename "
    f"... on Webhook {{ {FIELDS} }} "
    "... on OperationInfo { messages { kind field message } } } }"
)
UPDATE = CREATE.replace("CreateWebhookInput", "UpdateWebhookInput").replace(
    "createWebhook", "updateWebhook"
)
DELETE = (
    "mutation($i: DeleteWebhookInput!) { deleteWebhook(input: $i) { __typename "
    "... on DeletedWebhook { id } "
    "... on OperationInfo { messages { kind field message } } } }"
)


@pytest.fixture
def integrator(make_user):
    user = make_user("integrator@example.com")
    user.user_permissions.add(Permission.objects.get(codename="add_webhook"))
    return user


@pytest.fixture
def other_integrator(make_user):
    user = make_user("other@example.com")
    user.user_permissions.add(Permission.objects.get(codename="add_webhook"))
    return user


def new_hook(owner, **extra):
    values = {
        "name": "CRM",
        "url": "https://crm.example.com/hook",
        "events": ["ticket.created"],
        "secret": "s3cret",
        "owner": owner,
        **extra,
    }
    return Webhook.objects.create(**values)


def test_create_webhook(integrator, as_user):
    data = as_user(integrator)(
        CREATE,
        {
            "i": {
                "name": "CRM",
                "url": "https://crm.example.com/hook",
                "events": ["ticket.created", "comment.created"],
            }
        },
    )["createWebhook"]
    hook = Webhook.objects.get()
    assert data == {
        "__typename": "Webhook",
        "id": str(hook.pk),
        "name": "CRM",
        "url": "https://crm.example.com/hook",
        "events": ["ticket.created", "comment.created"],
        "includeInternalNotes": False,
        "active": True,
        "secret": hook.secret,
    }
    assert hook.owner == integrator and len(hook.secret) >= 32


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "ftp://x"}, "url"),
        ({"url": ""}, "url"),
        ({"events": ["nope"]}, "events"),
        ({"events": []}, "events"),
        ({"name": ""}, "name"),
    ],
)
def test_create_webhook_bad_input(integrator, as_user, changes, field):
    inp = {
        "name": "CRM",
        "url": "https://crm.example.com/h",
        "events": ["ticket.created"],
    }
    data = as_user(integrator)(CREATE, {"i": {**inp, **changes}})["createWebhook"]
    assert [(m["kind"], m["field"]) for m in data["messages"]] == [
        ("VALIDATION", field)
    ]
    assert Webhook.objects.count() == 0


def test_customer_without_the_permission_cannot_create(alice, as_user):
    inp = {"name": "x", "url": "https://x.example.com", "events": ["ticket.created"]}
    data = as_user(alice)(CREATE, {"i": inp})["createWebhook"]
    assert data["messages"][0]["kind"] == "PERMISSION"
    assert Webhook.objects.count() == 0


def test_read_only_token_lists_without_secrets_and_cannot_mutate(integrator, as_user):
    hook = new_hook(integrator)
    gql = as_user(integrator, scopes="read")
    assert gql("{ webhooks { id secret } }") == {
        "webhooks": [{"id": str(hook.pk), "secret": None}]
    }
    body = gql.post(DELETE, {"i": {"id": str(hook.pk)}}).json()
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert Webhook.objects.filter(pk=hook.pk).exists()


def test_owners_see_only_their_webhooks(integrator, other_integrator, as_user, anon):
    mine = new_hook(integrator, name="Mine")
    new_hook(other_integrator, name="Theirs")
    assert as_user(integrator)("{ webhooks { id name } }") == {
        "webhooks": [{"id": str(mine.pk), "name": "Mine"}]
    }
    assert anon("{ webhooks { id } }") == {"webhooks": []}


def test_update_changes_only_given_fields(integrator, as_user):
    hook = new_hook(integrator)
    data = as_user(integrator)(
        UPDATE, {"i": {"id": str(hook.pk), "active": False, "name": "CRM 2"}}
    )["updateWebhook"]
    assert (data["name"], data["active"], data["url"], data["secret"]) == (
        "CRM 2",
        False,
        "https://crm.example.com/hook",
        "s3cret",
    )


def test_cannot_touch_someone_elses_webhook(integrator, other_integrator, as_user):
    theirs = new_hook(other_integrator)
    gql = as_user(integrator)
    updated = gql(UPDATE, {"i": {"id": str(theirs.pk), "name": "Hijacked"}})
    deleted = gql(DELETE, {"i": {"id": str(theirs.pk)}})
    for payload in (updated["updateWebhook"], deleted["deleteWebhook"]):
        assert payload["messages"] == [
            {"kind": "ERROR", "field": None, "message": "No such webhook."}
        ]
    theirs.refresh_from_db()
    assert theirs.name == "CRM"


@pytest.mark.parametrize("bad_id", ["", " ", "abc", "-1", "9" * 40])
def test_malformed_ids_are_validation_errors(integrator, as_user, bad_id):
    hook = new_hook(integrator)
    data = as_user(integrator)(DELETE, {"i": {"id": bad_id}})["deleteWebhook"]
    assert [(m["kind"], m["field"]) for m in data["messages"]] == [("VALIDATION", "id")]
    assert Webhook.objects.filter(pk=hook.pk).exists()


def test_delete_webhook(integrator, as_user):
    hook = new_hook(integrator)
    data = as_user(integrator)(DELETE, {"i": {"id": str(hook.pk)}})
    assert data == {
        "deleteWebhook": {"__typename": "DeletedWebhook", "id": str(hook.pk)}
    }
    assert not Webhook.objects.exists()
