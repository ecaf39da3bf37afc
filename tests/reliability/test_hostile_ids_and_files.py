"""Garbage and huge identifiers, wrong types on JSON endpoints, hostile files.

Each answers a clear 4xx (or a validation message) and writes nothing; a huge number
must not reach the database, where SQLite cannot even compare it (OverflowError).
"""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from accounts import tokens
from tickets import services
from tickets.tests.factories import png_bytes, upload

HUGE = "999999999999999999999"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/portal/attachments/{HUGE}/x"),
        ("get", "/portal/attachments/0/x"),
        ("get", "/portal/attachments/1/"),
        ("get", "/portal/attachments/abc/x"),
        ("get", "/portal/attachments/1/..%2F..%2Fetc%2Fpasswd"),
        ("post", f"/kb/feedback/{HUGE}/"),
        ("post", "/kb/feedback/0/"),
        ("get", "/account/invitations/%00/"),
        ("get", "/account/invitations/" + "a" * 5000 + "/"),
        ("post", f"/account/tokens/{HUGE}/revoke/"),
        ("get", f"/account/organizations/{'x' * 300}/"),
        ("get", "/portal/tickets/HD-999999999999999999999/"),
        ("get", "/portal/tickets/%00/"),
        ("get", "/portal/tickets/ /"),
        ("get", "/portal/tickets/<script>/"),
    ],
)
def test_garbage_and_huge_ids_are_not_found(client, alice, stored, method, path):
    client.force_login(alice)
    before = stored()
    response = getattr(client, method)(
        path, {"helpful": "yes"} if method == "post" else None, follow=True
    )
    assert response.status_code == 404
    assert stored() == before


@pytest.mark.parametrize(
    "path",
    [
        f"/admin/accounts/users/{HUGE}/",
        f"/admin/pages/{HUGE}/",
        f"/admin/pages/{HUGE}/edit/",
        f"/django-admin/tickets/ticket/{HUGE}/change/",
    ],
)
def test_huge_ids_in_the_admin_are_not_found(admin_client, path):
    response = admin_client.get(path, follow=True)
    assert response.status_code in (404, 200)  # Django's admin redirects with a message
    if response.status_code == 200:
        assert response.redirect_chain  # never a page for a missing object


def test_revoking_a_huge_token_id_is_not_found_and_revokes_nothing(alice):
    token = tokens.create_token(alice, name="CI", scopes="read").token
    assert tokens.revoke_token(alice, int(HUGE)) is False
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize(
    ("query", "status", "body"),
    [
        ({"q": "sync", "limit": "abc"}, 400, {"error": "limit must be a number."}),
        ({"q": "sync", "limit": "1e3"}, 400, {"error": "limit must be a number."}),
        ({"q": "sync", "limit": ""}, 400, {"error": "limit must be a number."}),
        ({"q": "", "limit": "5"}, 200, {"results": []}),
        ({"q": "x" * 100_000}, 200, {"results": []}),
    ],
)
def test_kb_suggest_answers_bad_parameters_with_json(
    client, make_article, query, status, body
):
    make_article("Sync files")
    response = client.get("/kb/suggest/", query)
    assert response.status_code == status
    assert response.json() == body


@pytest.mark.parametrize("limit", ["-5", "0", HUGE, str(-int(HUGE))])
def test_kb_suggest_clamps_out_of_range_limits(client, make_article, limit):
    for number in range(25):
        make_article(f"Sync files {number}")
    response = client.get("/kb/suggest/", {"q": "sync", "limit": limit})
    assert response.status_code == 200
    count = len(response.json()["results"])
    assert count == (1 if int(limit) < 1 else 20)


def test_kb_suggest_refuses_post_and_malformed_json_bodies(client):
    response = client.post(
        "/kb/suggest/", data=b"{not json", content_type="application/json"
    )
    assert response.status_code == 405


@pytest.mark.parametrize(
    "query",
    [
        {"q": "sync", "category": HUGE},
        {"q": "sync", "category": "-1"},
        {"q": "sync", "category": "abc"},
        {"q": "sync", "page": HUGE},
        {"q": "sync", "page": "-1"},
        {"q": ["a", "b"]},
    ],
)
def test_kb_search_survives_garbage_parameters(client, make_article, query):
    make_article("Sync files")
    response = client.get("/kb/search/", query)
    assert response.status_code == 200


# --- hostile files, end to end through the ticket service ---------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.png", b"", "“empty.png” is empty."),
        (
            "holiday.png",
            EXE,
            "“holiday.png”: this type of file (application/x-msdownload) is not accepted.",
        ),
        (
            "invoice.pdf",
            png_bytes(),
            "“invoice.pdf” does not look like a .pdf file: its content is image/png.",
        ),
        (
            "../../etc/passwd.txt",
            b"root:x:0:0\n",
            "File names cannot contain folders (“/” or “\\”).",
        ),
        (
            "..\\..\\boot.ini.txt",
            b"[boot]\n",
            "File names cannot contain folders (“/” or “\\”).",
        ),
        (
            # RTL override: shows as "invoice‮fdp.exe" → "invoiceexe.pdf" to the eye
            "invoice\u202efdp.exe",
            EXE,
            "“invoicefdp.exe”: this type of file (application/x-msdownload) is not accepted.",
        ),
        (
            "report.pdf\x00.exe",
            PDF,
            "“report.pdf.exe” does not look like a .exe file: its content is application/pdf.",
        ),
        ("\u200b\u202e\x00", b"text\n", "The file needs a name."),
    ],
)
def test_a_hostile_file_refuses_the_whole_ticket(
    alice, queue, stored, name, content, message
):
    before = stored()
    with pytest.raises(ValidationError) as refused:
        services.create_ticket(
            alice,
            subject="Files",
            description="attached",
            # a raw named file, as a non-browser client could hand over: Django's
            # upload handlers would already strip folder parts from the name
            attachments=[
                upload("fine.png", png_bytes()),
                ContentFile(content, name=name),
            ],
        )
    assert refused.value.messages == [message]
    assert stored() == before


def test_a_file_over_the_limit_refuses_the_reply(ticket, alice, settings, stored):
    settings.TICKETS_ATTACHMENT_MAX_BYTES = 1024
    before = stored()
    with pytest.raises(ValidationError) as refused:
        services.reply(
            alice, ticket, body="log", attachments=[upload("big.log", b"x" * 1025)]
        )
    assert refused.value.messages == [
        "“big.log” is larger than the limit of 1.0\xa0KB."
    ]
    assert stored() == before


def test_unicode_trick_names_are_stored_cleaned(alice, queue, stored):
    ticket = services.create_ticket(
        alice,
        subject="Files",
        description="attached",
        attachments=[upload("scr\u202eeen\u200b.png", png_bytes())],
    )
    [attachment] = ticket.attachments.all()
    assert attachment.original_name == "screen.png"
    assert stored()[1] == [f"{attachment.file.name}"]


def test_a_nul_byte_in_the_account_search_of_the_admin_is_harmless(admin_client):
    response = admin_client.get("/admin/accounts/", {"q": "alice\x00"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/helpdesk/tickets/%00/"),
        ("get", f"/admin/helpdesk/tickets/HD-{HUGE}/"),
        ("get", "/admin/helpdesk/tickets/" + "x" * 5000 + "/"),
        ("post", "/admin/helpdesk/tickets/%00/comment/"),
        ("post", "/admin/helpdesk/tickets/{ref}/nope/"),
        ("get", "/admin/helpdesk/organizations/" + "x" * 300 + "/"),
        ("post", "/portal/tickets/%00/reply/"),
        ("post", f"/portal/tickets/HD-{HUGE}/status/"),
        ("post", "/portal/tickets/ /rate/"),
    ],
)
def test_garbage_references_in_the_desk_and_portal_are_not_found(
    client, agent, ticket, stored, method, path
):
    client.force_login(agent if "helpdesk" in path else ticket.requester)
    before = stored()
    response = getattr(client, method)(
        path.format(ref=ticket.reference), {"body": "x", "action": "close"}
    )
    assert response.status_code == 404
    assert stored() == before


@pytest.mark.parametrize(
    "query",
    [
        {"q": "\x00"},
        {"q": "x" * 100_000},
        {"page": HUGE},
        {"page": "-1"},
        {"status": "nonsense"},
        {"sort": "'; DROP TABLE"},
        {"queue": "\x00"},
    ],
)
def test_desk_inbox_and_portal_list_survive_garbage_parameters(
    client, agent, ticket, query
):
    client.force_login(agent)
    assert client.get("/admin/helpdesk/tickets/", query).status_code in (200, 400)
    client.force_login(ticket.requester)
    assert client.get("/portal/tickets/", query).status_code in (200, 400)
