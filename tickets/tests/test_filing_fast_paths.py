"""The portal filing's fast paths against the plain ones they stand for (F-1):
the queue's agents and the default queue made without ``Model.__init__``
(``portal.instances.from_db`` against ``Model.from_db``), the new ticket's emails
with the ticket's part of their context built once (``_created`` against
``_message`` per recipient), and the redirect's location kept per prefix
(``new.ticket_location`` against ``reverse``)."""

import pytest
from django.contrib.auth import get_user_model
from django.db.models.signals import post_init, pre_init
from django.urls import reverse, set_script_prefix
from django.utils import translation

from accounts import roles
from accounts.models import Organization
from portal import instances
from tickets import defaults, services
from tickets import notifications_handlers as handlers
from tickets.models import EventKind, Priority, Ticket
from tickets.portal import new

from .factories import make_agent

User = get_user_model()


def _fields(user):
    names = [f.attname for f in User._meta.concrete_fields]
    return names, tuple(getattr(user, name) for name in names)


def _same_instance(made, plain, *, besides=()):
    assert type(made) is type(plain)
    assert [k for k in made.__dict__ if k not in besides] == list(plain.__dict__)
    for key, value in plain.__dict__.items():
        if key == "_state":
            assert made._state is not value
            assert made._state.__dict__ == value.__dict__
        else:
            assert made.__dict__[key] == value
            assert type(made.__dict__[key]) is type(value)


@pytest.mark.django_db
def test_an_agent_is_made_as_from_db_makes_it(queue):
    ann = make_agent(queue, email="ann@example.com", locale="pl", display_name="Ann")
    ann.approved_by = ann
    ann.save()
    names, values = _fields(User.objects.get(pk=ann.pk))
    assert instances.plainly_made(User)
    made = instances.from_db(User, "default", names, values)
    plain = User.from_db("default", names, values)
    _same_instance(made, plain)
    # they behave alike: the foreign key is read, saved, compared
    assert made.approved_by == plain.approved_by == ann
    assert made == plain and hash(made) == hash(plain)
    made.display_name = "Ann Changed"
    made.save(update_fields=["display_name"])
    assert User.objects.get(pk=ann.pk).display_name == "Ann Changed"


@pytest.mark.django_db
@pytest.mark.parametrize("signal", [pre_init, post_init], ids=["pre", "post"])
def test_init_receivers_get_the_plain_from_db(queue, signal):
    # the denied twin: a receiver must see every agent made
    make_agent(queue, email="ann@example.com")
    make_agent(queue, email="bob@example.com")
    seen = []

    def receiver(sender, **kwargs):
        seen.append(sender)

    signal.connect(receiver, sender=User)
    try:
        assert not instances.plainly_made(User)
        agents = handlers.queue_agents(queue.agent_group_id)
    finally:
        signal.disconnect(receiver, sender=User)
    assert [a.email for a in agents] == ["ann@example.com", "bob@example.com"]
    assert len(seen) >= 2  # each agent made through __init__
    assert instances.plainly_made(User)


def test_a_model_with_a_descriptor_of_its_own_is_not_made_plainly():
    from tickets.models import Attachment  # a file field keeps its own descriptor

    assert not instances.plainly_made(Attachment)
    assert instances.plainly_made(Organization)


@pytest.mark.django_db
def test_the_default_queue_and_policy_are_made_as_from_db_makes_them(queue, settings):
    from tickets.models import SLAPolicy

    settings.TICKET_DEFAULTS_CACHE = True
    policy = SLAPolicy.objects.filter(is_default=True).first()
    for model, instance in ((type(queue), queue), (SLAPolicy, policy)):
        if instance is None:
            continue
        row = defaults._row(model.objects.get(pk=instance.pk))
        names = [f.attname for f in model._meta.concrete_fields]
        made = defaults._instance(model, row)
        _same_instance(made, model.from_db("default", names, row))
    kept = defaults.default_queue()
    again = defaults.default_queue()
    assert kept is not again and kept.pk == again.pk == queue.pk
    _same_instance(again, kept)
    kept.name = "mutated"
    assert defaults.default_queue().name == "Support"


@pytest.mark.django_db
def test_queue_agents_are_the_plain_reads_agents(queue):
    ann = make_agent(queue, email="ann@example.com", locale="ru")
    make_agent(queue, email="bob@example.com", is_superuser=True)
    fast = handlers.queue_agents(queue.agent_group_id)
    plain = [
        User.from_db("default", *_fields(user))
        for user in User.objects.filter(groups=queue.agent_group).order_by("email")
    ]
    assert [a.pk for a in fast] == [p.pk for p in plain]
    for made, read in zip(fast, plain, strict=True):
        # the read's instances, their role names remembered as group_names keeps them
        _same_instance(made, read, besides={"_role_names_cache"})
        assert made._role_names_cache == roles.group_names(User.objects.get(pk=made.pk))
    assert fast[0].pk == ann.pk and fast[0]._role_names_cache


def _plain_messages(event, actor):
    """What ``_created`` wrote before: ``_message`` with the whole context built for
    each recipient."""
    ticket = event.ticket
    yield handlers._message(event, "ticket_created", ticket.requester, actor=None)
    for agent in handlers.queue_agents(ticket.queue.agent_group_id):
        if agent.pk == ticket.requester_id:
            continue
        yield handlers._message(
            event, "ticket_created_agent", agent, actor=actor, body=ticket.description
        )


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_a_new_tickets_emails_are_what_the_plain_contexts_give(alice, queue, language):
    from portal.notifications.sending import _plain_json

    make_agent(queue, email="ann@example.com", locale="pl", display_name="Ann")
    make_agent(queue, email="ivan@example.com", locale="ru")
    customer_agent = make_agent(queue, email="cara@example.com")
    customer_agent.groups.clear()  # in no role: the portal's link, no address
    customer_agent.groups.add(queue.agent_group)
    ticket = services.create_ticket(
        alice, subject="Drucker brennt", description="Hilfe", priority=Priority.HIGH
    )
    event = ticket.events.get(kind=EventKind.CREATED)
    event.ticket = Ticket.objects.select_related("queue", "requester").get(pk=ticket.pk)
    fast = list(handlers._created(event, alice))
    plain = list(_plain_messages(event, alice))
    assert len(fast) == len(plain) == 4
    for one, other in zip(fast, plain, strict=True):
        assert one == other
        assert list(one.context) == list(other.context)  # the stored JSON's order
        with translation.override(language):
            assert _plain_json(one.context) == _plain_json(other.context)
    urls = [m.context["ticket_url"].split("/")[3] for m in fast]
    assert urls == ["portal", "admin", "portal", "admin"]


@pytest.mark.parametrize(
    "reference", ["HD-000123", "HD-1", "XY-99999999", "T_1-2", "HD-ÄÖ", "a b", "x%y"]
)
@pytest.mark.parametrize("prefix", ["/", "/helpdesk/", "/HD-0/"])
def test_the_location_is_what_reverse_gives(reference, prefix):
    set_script_prefix(prefix)
    try:
        for language in ("en", "pl", "ru"):
            with translation.override(language):
                for _ in range(2):  # reversed, then kept
                    assert new.ticket_location(reference) == reverse(
                        "tickets:portal_ticket", kwargs={"reference": reference}
                    )
    finally:
        set_script_prefix("/")


@pytest.mark.django_db
def test_a_filing_redirects_to_its_ticket(client, alice, queue):
    client.force_login(alice)
    response = client.post(
        "/portal/tickets/new/",
        {
            "subject": "Help",
            "description": "Please",
            "category": "technical",
            "priority": "medium",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "tickets:portal_ticket", kwargs={"reference": ticket.reference}
    )
    page = client.get(response["Location"])
    assert f"Ticket {ticket.reference} filed." in page.content.decode()
