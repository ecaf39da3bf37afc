"""The outbox INSERT written once as SQL (``portal.notifications.rows``): it stores
what ``bulk_create(ignore_conflicts=True)`` stored, in one statement."""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.functional import lazy, lazystr
from django.utils.translation import gettext

from portal.notifications import rows, sending
from portal.notifications.models import SentNotification

CONTEXT = {
    "reference": "HD-000042",
    "subject": 'Printer <b>"on fire"</b> — żółw',
    "count": 3,
    "ratio": 0.5,
    "flag": True,
    "nothing": None,
    "items": [{"title": "Ä", "url": "/kb/a/"}, ("tuple", 1)],
    "lazy": lazystr("Priority"),
}


def _message(user, key, **extra):
    return sending.Outgoing(
        kind="ticket_created",
        recipient=user,
        context=CONTEXT,
        idempotency_key=key,
        **extra,
    )


def _fields(row):
    return {
        field.attname: getattr(row, field.attname)
        for field in SentNotification._meta.concrete_fields
        if field.attname not in ("id", "created_at", "next_attempt_at")
    }


@pytest.mark.django_db(transaction=True)
def test_a_row_is_what_django_would_have_written(make_user):
    """Every column equals a row saved by the ORM from the same values, the context
    reads back as its plain-data form, and both times are the moment of writing."""
    user = make_user("agent@example.com")
    with transaction.atomic():
        sending.store(
            [
                _message(
                    user,
                    "evt-1:1:ticket_created",
                    actor=7,
                    preference="notify_on_reply",
                )
            ]
        )
    written = SentNotification.objects.get()
    assert written.created_at == written.next_attempt_at
    expected = SentNotification.objects.create(
        idempotency_key="other",
        kind="ticket_created",
        recipient=user,
        to_email="agent@example.com",
        context=json.loads(json.dumps({**CONTEXT, "lazy": "Priority"})),
        actor_id=7,
        preference="notify_on_reply",
    )
    assert _fields(written) == {
        **_fields(expected),
        "idempotency_key": "evt-1:1:ticket_created",
    }
    assert written.claimed_at is written.claimed_until is written.sent_at is None


@pytest.mark.django_db
def test_the_stored_json_is_the_text_django_stores(make_user):
    """The column holds Django's JSONField text for the same context (SQLite keeps
    the text; PostgreSQL's jsonb normalises it)."""
    user = make_user("agent@example.com")
    sending.store([_message(user, "k1")])
    field = SentNotification._meta.get_field("context")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT context FROM notifications_sentnotification WHERE idempotency_key = %s",
            ["k1"],
        )
        [raw] = cursor.fetchone()
    plain = json.loads(json.dumps({**CONTEXT, "lazy": "Priority"}))
    if connection.vendor == "sqlite":
        assert raw == field.get_db_prep_save(plain, connection)
    else:
        assert (json.loads(raw) if isinstance(raw, str) else raw) == plain


DJANGOS_OWN = "January"


@pytest.mark.django_db
def test_lazy_text_is_written_in_each_recipients_language_and_the_language_is_restored(
    make_user,
):
    users = [
        make_user("a@example.com", locale="pl"),
        make_user("b@example.com", locale="pl"),
        make_user("c@example.com"),
        make_user("d@example.com", locale="ru"),
        make_user("e@example.com", locale="pl"),
    ]
    translated = []

    def counted(text):
        translated.append(translation.get_language())
        return gettext(text)

    # translated when written (Django's own catalogue has the month in pl and ru; a
    # name, not a literal, so that our catalogues do not take the msgid over)
    month = lazy(counted, str)(DJANGOS_OWN)
    context = {"label": month}
    messages = [
        sending.Outgoing(
            kind="ticket_created", recipient=u, context=context, idempotency_key=str(n)
        )
        for n, u in enumerate(users)
    ]
    with translation.override("ru"):
        sending.store(messages)
        assert translation.get_language() == "ru"
    labels = {}
    # once per language, not once per recipient (back to Polish: the text kept)
    assert sorted(translated) == ["en", "pl", "ru"]
    for user, language in zip(users, ["pl", "pl", "en", "ru", "pl"], strict=True):
        with translation.override(language):
            labels[user.pk] = gettext(DJANGOS_OWN)
    assert {
        row.recipient_id: row.context["label"] for row in SentNotification.objects.all()
    } == labels
    assert len(set(labels.values())) == 3  # the catalogues differ


@pytest.mark.django_db
def test_a_key_written_before_keeps_its_row(make_user):
    user = make_user("agent@example.com")
    sending.store([_message(user, "same")])
    first = SentNotification.objects.get()
    outcomes, keys = sending.store(
        [
            sending.Outgoing(
                kind="other",
                recipient=user,
                context={"new": 1},
                idempotency_key="same",
            )
        ]
    )
    assert (outcomes, keys) == ([None], ["same"])
    again = SentNotification.objects.get()
    assert (again.pk, again.kind, again.context) == (
        first.pk,
        first.kind,
        first.context,
    )


@pytest.mark.django_db
def test_one_statement_per_chunk_of_rows(make_user, monkeypatch):
    monkeypatch.setattr(rows, "CHUNK", 4)
    user = make_user("agent@example.com")
    with CaptureQueriesContext(connection) as captured:
        sending.store([_message(user, f"k{n}") for n in range(9)])
    inserts = [q for q in captured if q["sql"].startswith("INSERT")]
    assert len(inserts) == 3
    assert SentNotification.objects.count() == 9


@pytest.mark.django_db
def test_an_eleven_email_filing_is_one_statement(make_user):
    users = [make_user(f"agent{n}@example.com") for n in range(11)]
    with CaptureQueriesContext(connection) as captured:
        outcomes, keys = sending.store(
            [_message(u, f"evt:{u.pk}:ticket_created") for u in users]
        )
    assert outcomes == [None] * 11 and len(keys) == 11
    assert [q["sql"].split()[0] for q in captured] == ["INSERT"]
    assert sorted(
        SentNotification.objects.values_list("to_email", flat=True)
    ) == sorted(u.email for u in users)


AWKWARD = [
    'quote " and \\ backslash',
    "{}{braces, commas}",  # an array literal's braces (not a GraphQL document)
    "NULL",
    "",
    "line\nbreak\ttab",
    "żółw — ü 😀",
    "it's",
]


@pytest.mark.django_db
def test_rows_are_what_bulk_create_writes_in_the_same_order(make_user):
    """The oracle: ``insert_rows`` (PostgreSQL: one JSON parameter; SQLite: VALUES)
    and Django's ``bulk_create(ignore_conflicts=True)`` (``rows._bulk_create``) write
    the same columns for the same rows, ids in the order given, with text that the
    array and JSON syntaxes treat specially, no recipient or actor, and non-ASCII."""
    user = make_user("agent@example.com")

    def made(prefix):
        return [
            rows.Row(
                idempotency_key=f"{prefix}:{n}:{text}",
                kind=f"kind {text}"[:50],
                recipient_id=user.pk if n % 2 else None,
                to_email="" if n % 3 else f"{n}@example.com",
                locale=["", "pl", "ru"][n % 3],
                context_json=json.dumps({"text": text, "n": n, "list": [text, None]}),
                actor_id=None if n % 2 else 10**12 + n,
                preference=text,
            )
            for n, text in enumerate(AWKWARD)
        ]

    def written(prefix):
        found = SentNotification.objects.filter(
            idempotency_key__startswith=f"{prefix}:"
        ).order_by("pk")
        return [
            {**_fields(row), "idempotency_key": row.idempotency_key[2:]}
            for row in found
        ]

    rows.insert_rows(made("a"))
    rows._bulk_create(made("b"), timezone.now())
    assert written("a") == written("b")
    assert [row["idempotency_key"] for row in written("a")] == [
        f"{n}:{text}" for n, text in enumerate(AWKWARD)
    ]
    # a key written before keeps its row, within one statement as across two
    again = made("a")
    rows.insert_rows([again[0], again[0]])
    assert len(written("a")) == len(AWKWARD)


@pytest.mark.django_db
def test_the_statement_is_one_text_with_few_parameters_for_any_number_of_rows(
    make_user,
):
    """PostgreSQL: the same SQL for 2 and 11 rows, with at most 50 parameters
    (psycopg keeps its parsing of such a statement)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes a VALUES list per row count")
    users = [make_user(f"agent{n}@example.com") for n in range(11)]
    executed = []

    def record(execute, sql, params, many, context):
        executed.append((sql, len(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        for count in (2, 11):
            sending.store([_message(u, f"{count}:{u.pk}") for u in users[:count]])
    assert executed == [(rows.recordset_sql(), 4)] * 2
    assert SentNotification.objects.count() == 13
