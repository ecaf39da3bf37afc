"""The subscribable webhooks are read once per generation (``webhooks.outbox.
subscribable_webhooks``): the second filing reads no webhooks and enqueues the same,
and every change of a webhook (created, edited, disabled, deleted, its internal-notes
choice) or of its owner (deactivated, locked, deleted, the right to manage webhooks
taken or given back) shows at the next event, both ways. Nothing is kept while such a
change waits for its commit, with the cache switched off or without a generation (the
cache down): read each time as before."""

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal import cache as shared_cache
from tickets import services
from tickets.models import Queue
from tickets.tests.factories import QueueFactory, make_agent, make_customer
from webhooks import outbox
from webhooks.models import Webhook, WebhookDelivery

# Committed changes: a new generation is set when a change commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def kept(settings):
    settings.WEBHOOKS_CACHE = True  # as with Redis (one process here)
    cache.clear()
    outbox._kept_subscribable.forget()
    yield
    cache.clear()
    outbox._kept_subscribable.forget()


@pytest.fixture
def alice(db):
    QueueFactory(slug="support", name="Support", is_default=True)
    return make_customer(email="alice@acme.example")


def webhooks_read(queries) -> int:
    return sum('FROM "graphql_api_webhook"' in q["sql"] for q in queries)


def file(requester):
    """File a ticket: the names of the webhooks it was enqueued for, and how many
    statements read the webhooks."""
    with CaptureQueriesContext(connection) as queries:
        ticket = services.create_ticket(requester, subject="Help", description="Hi")
    names = sorted(
        WebhookDelivery.objects.filter(
            ordering_key=f"ticket:{ticket.reference}"
        ).values_list("webhook__name", flat=True)
    )
    return names, webhooks_read(queries)


def test_the_second_filing_reads_no_webhooks_and_enqueues_the_same(alice, make_webhook):
    make_webhook(name="one")
    make_webhook(name="two", events=["ticket.created", "comment.created"])
    make_webhook(name="other event", events=["comment.created"])
    assert file(alice) == (["one", "two"], 1)
    assert file(alice) == (["one", "two"], 0)
    assert file(alice) == (["one", "two"], 0)


def test_none_at_all_is_kept_too(alice):
    assert file(alice) == ([], 1)
    assert file(alice) == ([], 0)


def test_the_kept_webhooks_are_new_instances_as_the_read_gives_them(make_webhook):
    hook = make_webhook(name="one", secret="the-secret")
    read = outbox.subscribable_webhooks()
    again = outbox.subscribable_webhooks()
    assert [w.pk for w in read] == [w.pk for w in again] == [hook.pk]
    assert read[0] is not again[0] and read[0].owner is not again[0].owner
    assert again[0].secret == "the-secret"
    assert again[0].owner.email == "integrator@example.com"
    assert again[0].events == ["ticket.created"]
    assert again[0].events is not read[0].events


def test_a_webhook_created_edited_disabled_and_deleted_shows_at_the_next_filing(
    alice, make_webhook
):
    assert file(alice) == ([], 1)
    hook = make_webhook(name="one")
    assert file(alice) == (["one"], 1)
    hook.events = ["comment.created"]
    hook.save()
    assert file(alice) == ([], 1)
    hook.events = ["ticket.created"]
    hook.save()
    assert file(alice) == (["one"], 1)
    hook.active = False
    hook.save(update_fields=["active"])
    assert file(alice) == ([], 1)
    hook.active = True
    hook.save(update_fields=["active"])
    assert file(alice) == (["one"], 1)
    assert file(alice) == (["one"], 0)
    hook.delete()
    assert file(alice) == ([], 1)


def test_the_internal_notes_choice_shows_at_the_next_note(alice, make_webhook):
    agent = make_agent(Queue.objects.get(slug="support"), email="agent@example.com")
    hook = make_webhook(name="notes", events=["comment.created"])
    ticket = services.create_ticket(alice, subject="Help", description="Hi")

    def notes():
        services.add_internal_note(agent, ticket, body="Secret")
        return WebhookDelivery.objects.filter(webhook=hook).count()

    assert notes() == 0
    hook.include_internal_notes = True
    hook.save()
    assert notes() == 1
    assert notes() == 2  # kept
    hook.include_internal_notes = False
    hook.save()
    assert notes() == 2


def test_the_owners_changes_show_at_the_next_filing(alice, make_webhook, integrator):
    make_webhook(name="one")
    assert file(alice) == (["one"], 1)
    integrator.is_active = False
    integrator.save()
    assert file(alice) == ([], 1)
    integrator.is_active = True
    integrator.save()
    assert file(alice) == (["one"], 1)
    integrator.locked_at = timezone.now()
    integrator.save(update_fields=["locked_at"])
    assert file(alice) == ([], 1)
    integrator.locked_at = None
    integrator.save(update_fields=["locked_at"])
    assert file(alice) == (["one"], 1)
    integrator.delete()  # the webhook loses its owner by SQL
    assert Webhook.objects.get().owner_id is None
    assert file(alice) == ([], 1)


def test_the_owners_right_is_asked_at_each_event(alice, make_webhook):
    """Not kept: taking away ``webhooks.add_webhook`` (no user save at all) stops the
    next event, giving it back restores it."""
    integrator = make_agent(Queue.objects.get(slug="support"), email="i2@example.com")
    right = Permission.objects.get(codename="add_webhook")
    integrator.user_permissions.add(right)
    make_webhook(name="one", owner=integrator)
    assert file(alice) == (["one"], 1)
    assert file(alice) == (["one"], 0)
    integrator.user_permissions.remove(right)
    assert file(alice)[0] == []
    integrator.user_permissions.add(right)
    assert file(alice)[0] == ["one"]


def test_nothing_is_kept_while_a_change_waits_for_its_commit(alice, make_webhook):
    hook = make_webhook(name="one")
    assert file(alice) == (["one"], 1)
    assert file(alice) == (["one"], 0)
    with transaction.atomic():
        hook.active = False
        hook.save()
        assert file(alice) == ([], 1)  # this transaction's own view
        assert file(alice) == ([], 1)  # not kept
    assert file(alice) == ([], 1)
    assert file(alice) == ([], 0)


def test_a_change_in_another_process_shows_through_the_generation(alice, make_webhook):
    """Another process's commit renews the generation in the shared cache: this
    process reads again (the rows changed by SQL here, as another process's would)."""
    hook = make_webhook(name="one")
    assert file(alice) == (["one"], 1)
    Webhook.objects.filter(pk=hook.pk).update(active=False)  # no signal here
    assert file(alice) == (["one"], 0)  # kept: this process was not told
    shared_cache.new_generation(outbox.GENERATION_KEY)  # the other process's renewal
    assert file(alice) == ([], 1)


@pytest.mark.parametrize("switched", [False, None])
def test_read_each_time_without_a_shared_cache(alice, make_webhook, settings, switched):
    settings.WEBHOOKS_CACHE = switched  # None: the test settings' local cache
    make_webhook(name="one")
    assert file(alice) == (["one"], 1)
    assert file(alice) == (["one"], 1)


def test_read_each_time_while_the_cache_cannot_say(alice, make_webhook, monkeypatch):
    make_webhook(name="one")
    monkeypatch.setattr(shared_cache, "generation", lambda key: None)
    assert file(alice) == (["one"], 1)
    assert file(alice) == (["one"], 1)


def _same(made, plain):
    """Two instances with the same attributes of the same types (``_state`` and the
    cached owner compared by their own attributes)."""
    assert type(made) is type(plain) and made is not plain
    assert list(made.__dict__) == list(plain.__dict__)
    for key, value in plain.__dict__.items():
        if key == "_state":
            fields = value.__dict__.get("fields_cache", {})
            assert made._state.db == value.db and made._state.adding == value.adding
            for name, related in fields.items():
                _same(made._state.fields_cache[name], related)
        else:
            assert made.__dict__[key] == value
            assert type(made.__dict__[key]) is type(value)


def test_the_kept_webhooks_are_the_plain_reads_instances(make_webhook):
    """Oracle: the instances made of the kept rows are the ones the statement's own
    read makes (every attribute, the owner's too)."""
    make_webhook(name="one", events=["ticket.created", "comment.created"])
    make_webhook(name="two", include_internal_notes=True)
    outbox.subscribable_webhooks()  # kept
    kept = outbox.subscribable_webhooks()
    plain = outbox._SUBSCRIBABLE.instances()
    assert len(kept) == len(plain) == 2
    for made, read in zip(kept, plain, strict=True):
        _same(made, read)
