"""Hostile free text: 10 MB fields, bodies past Django's upload limit and NUL bytes.

Each is refused with a message naming the field (or, for NULs, stored without them),
never a server error, and a refusal writes nothing. Run on PostgreSQL too: it refuses
NUL characters in text columns, which is where a missed one turns into a 500.
"""

import pytest
from django.core.exceptions import ValidationError

from kb import counters as kb_counters
from kb import services as kb_services
from kb.models import ArticleFeedback
from tickets import services
from tickets.models import Status

TEN_MB = "x" * (10 * 1024 * 1024)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"subject": TEN_MB, "description": "d"},
            {"subject": ["The subject is too long (at most 200 characters)."]},
        ),
        (
            {"subject": "s", "description": TEN_MB},
            {
                "description": [
                    "The description is too long (at most 50000 characters)."
                ]
            },
        ),
        (
            {"subject": "\x00 \x00", "description": "d"},
            {"subject": ["The subject cannot be empty."]},
        ),
    ],
)
def test_oversized_or_empty_ticket_text_is_refused_and_nothing_is_written(
    alice, queue, stored, fields, errors
):
    before = stored()
    with pytest.raises(ValidationError) as refused:
        services.create_ticket(alice, **fields)
    assert refused.value.message_dict == errors
    assert stored() == before


@pytest.mark.parametrize(
    ("call", "errors"),
    [
        (
            lambda t, alice, agent: services.reply(alice, t, body=TEN_MB),
            {"body": ["The reply is too long (at most 50000 characters)."]},
        ),
        (
            lambda t, alice, agent: services.add_internal_note(agent, t, body=TEN_MB),
            {"body": ["The note is too long (at most 50000 characters)."]},
        ),
        (
            lambda t, alice, agent: services.change_status(
                agent, t, Status.REJECTED, reason=TEN_MB
            ),
            {"reason": ["The reason is too long (at most 5000 characters)."]},
        ),
        (
            lambda t, alice, agent: services.set_tags(agent, t, [TEN_MB]),
            {"tags": ["Tags are at most 50 characters long."]},
        ),
    ],
    ids=["reply", "note", "reject-reason", "tag"],
)
def test_oversized_text_on_a_ticket_is_refused_and_nothing_changes(
    ticket, alice, agent, stored, call, errors
):
    before = stored()
    with pytest.raises(ValidationError) as refused:
        call(ticket, alice, agent)
    assert refused.value.message_dict == errors
    assert stored() == before
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rejection_reason) == (Status.NEW, "")


def test_nul_bytes_are_removed_from_every_ticket_text(alice, agent, queue):
    ticket = services.create_ticket(
        alice, subject="Printer\x00 jam", description="It\x00 jams."
    )
    comment = services.reply(alice, ticket, body="Still\x00 jammed")
    note = services.add_internal_note(agent, ticket, body="Call\x00 them")
    assert services.set_tags(agent, ticket, ["hard\x00ware", "\x00"]) == ["hardware"]
    entry = services.log_time(agent, ticket, minutes=5, note="Phone\x00 call")
    services.change_status(agent, ticket, Status.RESOLVED)
    services.rate(alice, ticket, rating=4, comment="Fine\x00 now")

    ticket.refresh_from_db()
    comment.refresh_from_db()
    note.refresh_from_db()
    entry.refresh_from_db()
    assert (ticket.subject, ticket.description) == ("Printer jam", "It jams.")
    assert (comment.body, note.body, entry.note) == (
        "Still jammed",
        "Call them",
        "Phone call",
    )
    assert sorted(ticket.tags.names()) == ["hardware"]
    assert ticket.satisfaction_comment == "Fine now"


def test_nul_bytes_are_removed_from_a_rejection_reason(ticket, agent):
    services.change_status(agent, ticket, Status.REJECTED, reason="Spam\x00 bot")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rejection_reason) == (Status.REJECTED, "Spam bot")


def test_kb_feedback_service_removes_nul_bytes(make_article, alice):
    article = make_article("Sync files")
    feedback = kb_services.submit_feedback(
        article, user=alice, session_key="", helpful=False, comment="Too\x00 short"
    )
    feedback.refresh_from_db()
    assert feedback.comment == "Too short"


def test_kb_feedback_service_refuses_a_10_mb_comment(make_article, alice):
    article = make_article("Sync files")
    with pytest.raises(kb_services.FeedbackError) as refused:
        kb_services.submit_feedback(
            article, user=alice, session_key="", helpful=False, comment=TEN_MB
        )
    assert str(refused.value) == "Please keep the comment under 1000 characters."
    assert ArticleFeedback.objects.count() == 0


def test_a_10_mb_feedback_comment_from_the_page_gets_a_message_and_no_row(
    client, make_article, stored
):
    article = make_article("Sync files")
    before = stored()
    response = client.post(
        f"/kb/feedback/{article.pk}/",
        {"helpful": "no", "comment": TEN_MB},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain == [(article.url + "#feedback", 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Please choose Yes or No (comments up to 1000 characters)."
    ]
    assert stored() == before


def test_a_nul_byte_in_a_feedback_comment_from_the_page_is_refused(
    client, make_article, stored
):
    article = make_article("Sync files")
    before = stored()
    response = client.post(
        f"/kb/feedback/{article.pk}/", {"helpful": "no", "comment": "a\x00b"}
    )
    assert response.status_code == 302
    assert stored() == before


def test_a_body_past_data_upload_max_memory_size_is_a_400(
    client, make_article, settings, stored
):
    article = make_article("Sync files")
    before = stored()
    too_big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(
        f"/kb/feedback/{article.pk}/", {"helpful": "no", "comment": too_big}
    )
    assert response.status_code == 400
    assert stored() == before


@pytest.mark.parametrize("url", ["/kb/suggest/", "/kb/search/"])
def test_nul_bytes_in_kb_queries_answer_normally(client, make_article, url):
    make_article("Sync files")
    response = client.get(url, {"q": "sync\x00files"})
    assert response.status_code == 200


def test_nul_bytes_in_a_kb_query_are_not_logged(make_article):
    from kb.models import UnansweredSearch

    kb_counters.record_search("zzz\x00qqq", result_count=0)
    assert list(UnansweredSearch.objects.values_list("query_string", flat=True)) == [
        "zzzqqq"
    ]
