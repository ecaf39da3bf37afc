"""``portal.instances.made_new(model, **given)``: the instance ``model(**given)``
makes, attribute by attribute in the same order (a callable default's value compared
by type: it is called for each), its related objects cached as the descriptor caches
them; ``model(**given)`` itself where a receiver is connected or a name is not a
field's."""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models.signals import post_init
from django.utils import timezone

from portal import instances
from tickets.models import Ticket, TicketEvent
from tickets.tests.factories import QueueFactory

User = get_user_model()


def _called_defaults(model) -> set:
    return {
        field.attname
        for field in model._meta.fields
        if field.has_default() and callable(field.default)
    }


def _same(made, plain):
    assert type(made) is type(plain)
    assert list(made.__dict__) == list(plain.__dict__)  # the same order
    called = _called_defaults(type(plain))
    for key, value in plain.__dict__.items():
        if key == "_state":
            assert made._state is not value
            mine, theirs = made._state.__dict__, value.__dict__
            assert mine.keys() == theirs.keys()
            assert (made._state.adding, made._state.db) == (value.adding, value.db)
            if "fields_cache" in theirs:
                assert mine["fields_cache"].keys() == theirs["fields_cache"].keys()
                for name, related in theirs["fields_cache"].items():
                    assert mine["fields_cache"][name] is related
        elif key in called:
            assert type(made.__dict__[key]) is type(value)
        else:
            assert made.__dict__[key] == value
            assert type(made.__dict__[key]) is type(value)


@pytest.mark.django_db  # some models' own __init__ reads (wagtail's pages: the locale)
@pytest.mark.parametrize(
    "model", [m for m in apps.get_models() if not m._meta.abstract and m._meta.fields]
)
def test_every_model_with_nothing_given(model):
    _same(instances.made_new(model), model())


@pytest.mark.django_db
def test_a_ticket_and_its_event_as_a_filing_makes_them(make_user):
    customer = make_user("c@x.example")
    queue = QueueFactory(slug="q", name="Q")
    now = timezone.now()
    given = {
        "subject": "S",
        "description": "D",
        "priority": "high",
        "category": "technical",
        "source": "portal",
        "requester": customer,
        "organization": None,
        "queue": queue,
        "first_response_due_at": now,
        "resolution_due_at": now,
        "created_at": now,
    }
    ticket = instances.made_new(Ticket, **given)
    _same(ticket, Ticket(**given))
    assert ticket.requester is customer and ticket.queue is queue
    event_given = {
        "ticket": ticket,
        "actor_id": customer.pk,
        "kind": "created",
        "old_value": "",
        "new_value": "new",
        "data": {"source": "portal"},
    }
    _same(instances.made_new(TicketEvent, **event_given), TicketEvent(**event_given))
    by_id = {**given, "requester_id": customer.pk}
    del by_id["requester"]
    _same(instances.made_new(Ticket, **by_id), Ticket(**by_id))


def test_a_called_default_is_called_for_each():
    first, second = instances.made_new(TicketEvent), instances.made_new(TicketEvent)
    assert first.data == {} and first.data is not second.data


def test_django_refuses_what_it_refuses():
    with pytest.raises(TypeError):
        instances.made_new(Ticket, no_such_field=1)
    both = {"requester": None, "requester_id": 1}  # Django sets the id after
    _same(instances.made_new(Ticket, **both), Ticket(**both))
    with pytest.raises(ValueError):
        instances.made_new(Ticket, queue="not a queue")


def test_a_receiver_gets_the_instance_django_makes():
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Ticket)
    try:
        ticket = instances.made_new(Ticket, subject="S")
    finally:
        post_init.disconnect(receiver, sender=Ticket)
    assert seen == [ticket]
