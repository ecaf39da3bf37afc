"""``portal.sql.KeptInsert``: the row, the instance and the signals of
``Model.save(force_insert=True)``, from SQL written once.

Over 400 lines on purpose: every concrete field of every model against Django's own
preparation of the values (the oracle of the values passed as given)."""

import uuid
from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.db.models import DateField, DateTimeField, Field, FileField, Value
from django.db.models.signals import post_save, pre_save
from django.db.models.sql.compiler import SQLInsertCompiler

from portal.sql import KeptInsert, _read_plainly
from tickets.models import (
    Attachment,
    DeflectionEvent,
    DeflectionOutcome,
    Ticket,
    TicketEvent,
)
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


class _Lazy:
    """A value that is none of the kinds ``_as_given`` knows: the field's steps."""

    def __str__(self):
        return "lazy"


def _sample_values():
    from django.utils import timezone as dj_timezone
    from django.utils.translation import gettext_lazy

    naive = datetime(2026, 3, 4, 5, 6, 7)
    return [
        None,
        "",
        "text",
        "ünï\x01",
        DeflectionOutcome.FILED,  # a str enum member
        gettext_lazy("Open"),
        0,
        7,
        2**40,
        True,
        7.0,
        "7",
        MOMENT,
        naive,
        MOMENT.astimezone(dj_timezone.get_fixed_timezone(120)),
        MOMENT.date(),
        uuid.UUID("3f1c5a1e-8a7b-4c57-9e51-3c1b7e6b8f00"),
        "3f1c5a1e-8a7b-4c57-9e51-3c1b7e6b8f00",
        _Lazy(),
    ]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # a naive datetime, as Django
def test_values_saved_as_given_are_what_get_db_prep_save_returns():
    """Every concrete field of the models written by ``KeptInsert`` (and the kinds
    of field it knows, nullable or not), every sample value: where ``_as_given``
    says the value is saved as it is, Django's ``get_db_prep_save`` returns an equal
    value of the same type; elsewhere the field's own steps run as before."""
    from django.apps import apps
    from django.db import models as dj_models

    from portal import sql

    fields = [
        field
        for model in apps.get_models()
        for field in model._meta.local_concrete_fields
    ]
    assert {type(f) for f in fields} >= {
        dj_models.CharField,
        dj_models.TextField,
        dj_models.DateTimeField,
        dj_models.UUIDField,
        dj_models.ForeignKey,
        dj_models.OneToOneField,
    }
    known = 0
    for field in fields:
        kind = sql._as_given_kind(field, connection)
        if connection.vendor != "postgresql":
            assert kind is None
            continue
        for value in _sample_values():
            if kind is None or not sql._as_given(kind, value):
                continue
            known += 1
            expected = field.get_db_prep_save(value, connection=connection)
            assert expected == value, (field, value)
            assert type(expected) is type(value), (field, value)
    if connection.vendor == "postgresql":
        assert known > 1000
        # the kinds it does not know: the field's own steps
        others = [
            dj_models.IntegerField(),
            dj_models.JSONField(),
            dj_models.SlugField(),
        ]
        assert [sql._as_given_kind(f, connection) for f in others] == [None] * 3


def test_a_value_of_another_kind_goes_through_the_field():
    from portal import sql

    text = sql._TEXT
    assert sql._as_given(text, "x") and sql._as_given(text, None)
    assert not sql._as_given(text, 1) and not sql._as_given(text, _Lazy())
    assert not sql._as_given(sql._KEY, True) and not sql._as_given(sql._KEY, "1")
    assert not sql._as_given(sql._MOMENT, datetime(2026, 1, 1))  # naive: warned
    assert not sql._as_given(sql._MOMENT, MOMENT.date())
    assert not sql._as_given(sql._UUID, str(uuid.uuid4()))
    assert not sql._as_given(None, None)


def test_the_rows_params_are_djangos_for_each_field(signals):
    """The parameters of a ticket's and a deflection record's INSERT are what
    Django's insert compiler prepares for the same values (and of the same types)."""
    from django.db.models.sql.subqueries import InsertQuery

    requester = TicketFactory().requester
    queue = QueueFactory()
    reference, token = f"T-{uuid.uuid4().hex[:8]}", uuid.uuid4()
    made = [
        (
            KeptInsert(Ticket),
            lambda: Ticket(
                reference=reference,
                subject="S",
                description="D",
                requester=requester,
                queue=queue,
                first_response_due_at=MOMENT,
                created_at=MOMENT,
            ),
        ),
        (
            KeptInsert(DeflectionEvent),
            lambda: DeflectionEvent(
                token=token,
                outcome=DeflectionOutcome.FILED,
                user=requester,
                shown_count=3,
                query="q",
                session_key="k",
                created_at=MOMENT,
            ),
        ),
    ]
    for kept, make in made:
        with mock.patch("django.utils.timezone.now", return_value=MOMENT):
            _sql, params, _finish = kept.part(make())
            twin = make()
            fields = [field for field, *_kept in kept._compiled["default"][0]]
            query = InsertQuery(type(twin))
            query.insert_values(fields, [twin])
            compiler = query.get_compiler(using="default")
            expected = [
                compiler.prepare_value(f, compiler.pre_save_val(f, twin))
                for f in fields
            ]
        assert params == expected
        assert [type(p) for p in params] == [type(p) for p in expected]


@pytest.mark.parametrize("model", [Ticket, TicketEvent, DeflectionEvent, Attachment])
def test_a_value_read_plainly_is_what_pre_save_returns(model):
    """``_read_plainly``: the ``__dict__`` value where ``pre_save`` is ``Field``'s
    ``getattr`` through Django's plain descriptors; ``auto_now`` and a file field's
    own ``pre_save`` are asked (denied twins)."""
    instance = model()
    for field in model._meta.local_concrete_fields:
        attname = _read_plainly(field)
        if attname is None:
            continue
        # ``Field``'s, or a date's or a moment's without ``auto_now(_add)`` (the same)
        assert type(field).pre_save in PLAIN_PRE_SAVES
        assert not getattr(field, "auto_now", False)
        assert not getattr(field, "auto_now_add", False)
        assert attname in instance.__dict__
        assert instance.__dict__[attname] is field.pre_save(instance, True)
    asked = {
        field.name
        for field in model._meta.local_concrete_fields
        if _read_plainly(field) is None
    }
    auto_now = {
        f.name
        for f in model._meta.local_concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    files = {
        f.name for f in model._meta.local_concrete_fields if isinstance(f, FileField)
    }
    assert auto_now | files <= asked


PLAIN_PRE_SAVES = (Field.pre_save, DateField.pre_save, DateTimeField.pre_save)


def test_dates_are_read_plainly_without_auto_now_and_asked_with_it():
    """Over every installed model: a date or moment field without ``auto_now`` or
    ``auto_now_add`` is read from the ``__dict__`` (what its ``pre_save`` returns
    for a value set there); with either, its ``pre_save`` is asked (it sets now)."""
    seen = {"plain": 0, "asked": 0}
    for model in apps.get_models():
        for field in model._meta.local_concrete_fields:
            if type(field) not in (DateField, DateTimeField):
                continue
            attname = _read_plainly(field)
            if field.auto_now or field.auto_now_add:
                assert attname is None, field
                seen["asked"] += 1
                continue
            descriptor = type(model.__dict__.get(field.attname)).__name__
            if descriptor != "DeferredAttribute":
                assert attname is None, field
                continue
            assert attname == field.attname, field
            instance = model.__new__(model)
            value = (
                date(2026, 1, 2)
                if type(field) is DateField
                else datetime(2026, 1, 2, 3, tzinfo=UTC)
            )
            instance.__dict__[attname] = value
            assert field.pre_save(instance, True) is value
            seen["plain"] += 1
    assert seen["plain"] > 10 and seen["asked"] > 10, seen


def test_a_descriptor_of_its_own_is_asked(monkeypatch):
    """Denied twin: a model attribute that is not Django's plain descriptor (a
    property, say) makes ``pre_save`` go through ``getattr`` as before."""
    field = DeflectionEvent._meta.get_field("query")
    assert _read_plainly(field) == "query"
    monkeypatch.setattr(DeflectionEvent, "query", property(lambda self: "own"))
    assert _read_plainly(field) is None
