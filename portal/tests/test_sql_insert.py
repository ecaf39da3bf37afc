"""``portal.sql.KeptInsert``: the row, the instance and the signals of
``Model.save(force_insert=True)``, from SQL written once."""

import uuid
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Value
from django.db.models.signals import post_save, pre_save
from django.db.models.sql.compiler import SQLInsertCompiler

from portal.sql import KeptInsert
from tickets.models import DeflectionEvent, DeflectionOutcome, Ticket, TicketEvent
from tickets.tests.factories import QueueFactory, TicketFactory

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 3, 4, 5, 6, 7, 890_123, tzinfo=UTC)


def _row(model, pk, *, skip=()):
    row = model.objects.filter(pk=pk).values().get()
    return {k: v for k, v in row.items() if k not in ("id", *skip)}


def _instance(obj):
    return {
        k: v
        for k, v in vars(obj).items()
        if k not in ("_state", "id") and not k.startswith("_")
    }


@pytest.fixture
def signals():
    seen = []

    def receiver(signal):
        def on(sender, instance, **kwargs):
            seen.append((signal, sender, instance.pk, instance._state.adding, kwargs))

        return on

    on_pre, on_post = receiver("pre"), receiver("post")
    pre_save.connect(on_pre, weak=False)
    post_save.connect(on_post, weak=False)
    yield seen
    pre_save.disconnect(on_pre)
    post_save.disconnect(on_post)


def _both(kept, make, signals):
    """The ORM's insert and ours of ``make()``, with ``timezone.now`` fixed."""
    outcomes = []
    for save in (lambda obj: obj.save(force_insert=True), kept.save):
        signals.clear()
        obj = make()
        with mock.patch("django.utils.timezone.now", return_value=MOMENT):
            save(obj)
        seen = [(s, sender, adding, kw) for s, sender, _pk, adding, kw in signals]
        outcomes.append((obj, seen))
    return outcomes


def test_a_ticket_is_the_orms_row_instance_and_signals(signals):
    queue = QueueFactory()
    requester = TicketFactory().requester
    numbers = iter(("HD-900001", "HD-900002"))

    def make():
        return Ticket(
            reference=next(numbers),
            subject="Printer «on fire»",
            description="It smokes.\nReally.",
            priority="high",
            category="technical",
            source="portal",
            requester=requester,
            queue=queue,
            first_response_due_at=MOMENT,
            created_at=MOMENT,
        )

    (orm, orm_signals), (ours, our_signals) = _both(KeptInsert(Ticket), make, signals)
    assert ours.pk and ours.pk != orm.pk and not ours._state.adding
    assert ours._state.db == orm._state.db == "default"
    assert _row(Ticket, ours.pk, skip=("reference",)) == _row(
        Ticket, orm.pk, skip=("reference",)
    )
    assert {**_instance(ours), "reference": ""} == {**_instance(orm), "reference": ""}
    assert ours.updated_at == MOMENT  # auto_now, as the ORM sets it
    assert our_signals == orm_signals
    assert [s for s, *_ in our_signals] == ["pre", "post"]
    assert our_signals[1][3]["created"] is True


def test_an_event_takes_its_tickets_id_and_keeps_its_json(signals):
    ticket = TicketFactory()
    kept = KeptInsert(TicketEvent, own_save_checked=True)

    def make():
        return TicketEvent(
            ticket=ticket,
            actor_id=ticket.requester_id,
            kind="created",
            new_value="new",
            data={"source": "portal", "on_behalf": False, "text": "żółw"},
            created_at=MOMENT,  # its default is bound at import: not patched
        )

    (orm, orm_signals), (ours, our_signals) = _both(kept, make, signals)
    assert ours.ticket_id == ticket.pk
    assert _row(TicketEvent, ours.pk) == _row(TicketEvent, orm.pk)
    assert _instance(ours) == _instance(orm)
    assert our_signals == orm_signals


def test_a_deflection_record_with_a_uuid(signals):
    tickets = iter((TicketFactory(), TicketFactory()))  # one record a ticket
    tokens = iter((uuid.uuid4(), uuid.uuid4()))

    def make():
        ticket = next(tickets)
        return DeflectionEvent(
            token=next(tokens),
            outcome=DeflectionOutcome.FILED,
            ticket=ticket,
            user=ticket.requester,
            session_key="abc",
            query="printer",
            shown_count=2,
            created_at=MOMENT,  # its default is bound at import: not patched
        )

    (orm, orm_signals), (ours, our_signals) = _both(
        KeptInsert(DeflectionEvent), make, signals
    )
    different = ("token", "ticket_id", "user_id")
    assert _row(DeflectionEvent, ours.pk, skip=different) == _row(
        DeflectionEvent, orm.pk, skip=different
    )
    stored = DeflectionEvent.objects.get(pk=ours.pk)
    assert (stored.token, stored.ticket_id, stored.user_id) == (
        ours.token,
        ours.ticket.pk,
        ours.ticket.requester_id,
    )
    assert our_signals == orm_signals


def test_compiled_once_one_statement_each(django_assert_num_queries):
    kept = KeptInsert(DeflectionEvent)
    kept.save(DeflectionEvent(token=uuid.uuid4(), ticket=None))
    with (
        mock.patch.object(SQLInsertCompiler, "as_sql", side_effect=AssertionError),
        django_assert_num_queries(2),
    ):
        first = kept.save(DeflectionEvent(token=uuid.uuid4(), ticket=None))
        second = kept.save(DeflectionEvent(token=uuid.uuid4(), ticket=None))
    assert second.pk > first.pk
    assert DeflectionEvent.objects.count() == 3


def test_refused_a_saved_instance_another_model_an_expression_an_own_save():
    ticket = TicketFactory()
    kept = KeptInsert(DeflectionEvent)
    saved = kept.save(DeflectionEvent(token=uuid.uuid4(), ticket=None))
    with pytest.raises(ValueError, match="new instance"):
        kept.save(saved)
    with pytest.raises(ValueError, match="new instance"):
        kept.save(DeflectionEvent(pk=10**9, token=uuid.uuid4(), ticket=None))
    with pytest.raises(ValueError, match="not a DeflectionEvent"):
        kept.save(ticket)
    with pytest.raises(ValueError, match="expression"):
        kept.save(DeflectionEvent(token=uuid.uuid4(), ticket=None, query=Value("x")))
    with pytest.raises(ValueError, match="save of its own"):
        KeptInsert(TicketEvent)
    assert DeflectionEvent.objects.count() == 1


def test_a_failed_insert_marks_the_transaction_as_the_orm_does():
    kept = KeptInsert(DeflectionEvent)
    token = uuid.uuid4()
    kept.save(DeflectionEvent(token=token, ticket=None))
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            kept.save(DeflectionEvent(token=token, ticket=None))
        assert connection.needs_rollback  # the block is rolled back as it ends
    assert DeflectionEvent.objects.filter(token=token).count() == 1


# --- the options (PostgreSQL): a computed value, a conflict skipped, a condition -----


def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the options are PostgreSQL's")


def test_the_options_are_refused_where_they_cannot_be_written():
    with pytest.raises(ValueError, match="one %s"):
        KeptInsert(DeflectionEvent, expressions={"query": "upper(%s) || %s"})
    with pytest.raises(ValueError, match="unique"):
        KeptInsert(DeflectionEvent, skip_conflict_on="query")
    kept = KeptInsert(DeflectionEvent, expressions={"nope": "(%s)"})
    if connection.vendor == "postgresql":
        with pytest.raises(ValueError, match="not inserted fields"):
            kept.save(DeflectionEvent(token=uuid.uuid4()))
    else:
        with pytest.raises(ValueError, match="PostgreSQL"):
            KeptInsert(DeflectionEvent, when="true").save(
                DeflectionEvent(token=uuid.uuid4())
            )
    assert DeflectionEvent.objects.count() == 0


def test_a_value_computed_in_sql_is_returned_and_set(signals):
    _postgres_only()
    kept = KeptInsert(
        DeflectionEvent, expressions={"query": "upper(%s) || '!'"}, returning=["query"]
    )
    event = kept.save(DeflectionEvent(token=uuid.uuid4(), query="printer"))
    assert event.query == "PRINTER!"
    assert DeflectionEvent.objects.get(pk=event.pk).query == "PRINTER!"
    assert [(s, adding) for s, _sender, _pk, adding, _kw in signals] == [
        ("pre", True),
        ("post", False),
    ]


def test_a_conflict_skipped_returns_no_row_and_keeps_the_transaction(signals):
    _postgres_only()
    kept = KeptInsert(DeflectionEvent, skip_conflict_on="token")
    token = uuid.uuid4()
    with transaction.atomic():
        first = kept.save(DeflectionEvent(token=token, query="first"))
        signals.clear()
        again = DeflectionEvent(token=token, query="second")
        assert kept.save(again) is None
        assert again.pk is None and again._state.adding
        assert [s for s, *_ in signals] == ["pre"]  # no post_save: nothing written
        assert not connection.needs_rollback
        assert DeflectionEvent.objects.get(token=token).pk == first.pk
    assert DeflectionEvent.objects.get().query == "first"


def test_a_conditional_insert_casts_every_value_as_the_orm_stores_it(signals):
    """``INSERT … SELECT`` with the values typed: uuid, text, a NULL and a set
    foreign key, a small integer, timestamps; the row is the ORM's."""
    _postgres_only()
    tickets = iter((TicketFactory(), TicketFactory()))
    tokens = iter((uuid.uuid4(), uuid.uuid4(), uuid.uuid4()))

    def make(user=None):
        return DeflectionEvent(
            token=next(tokens),
            outcome=DeflectionOutcome.FILED,
            ticket=next(tickets) if user is None else None,
            user=user,
            session_key="abc",
            query="«printer»",
            shown_count=3,
            created_at=MOMENT,
        )

    (orm, orm_signals), (ours, our_signals) = _both(
        KeptInsert(DeflectionEvent, when="1 = 1"), make, signals
    )
    assert _row(DeflectionEvent, ours.pk, skip=("token", "ticket_id")) == _row(
        DeflectionEvent, orm.pk, skip=("token", "ticket_id")
    )
    assert our_signals == orm_signals
    never = KeptInsert(DeflectionEvent, when="1 = 0")
    assert never.save(make(user=ours.ticket.requester)) is None
    assert DeflectionEvent.objects.count() == 2
