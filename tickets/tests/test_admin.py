import pytest

from tickets import services

from .factories import make_supervisor

ADMIN_PAGES = [
    "tickets/ticket/",
    "tickets/ticketevent/",
    "tickets/queue/",
    "tickets/slapolicy/",
    "tickets/cannedresponse/",
    "tickets/comment/",
    "tickets/attachment/",
    "tickets/timeentry/",
    "tickets/dailystats/",
    "tickets/ticketuserobjectpermission/",
    "tickets/ticketgroupobjectpermission/",
]


@pytest.fixture
def admin_user(make_user):
    return make_user("admin@example.com", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_lists_open_for_administrators(client, admin_user, ticket, page):
    client.force_login(admin_user)
    assert client.get(f"/django-admin/{page}").status_code == 200


def test_ticket_and_event_pages_are_read_only(client, admin_user, ticket, agent):
    services.reply(agent, ticket, body="Hi")
    client.force_login(admin_user)
    page = client.get(f"/django-admin/tickets/ticket/{ticket.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    event = ticket.events.first()
    response = client.post(
        f"/django-admin/tickets/ticketevent/{event.pk}/change/", {"kind": "rated"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.kind == "created"


def test_supervisors_do_not_get_the_django_admin_models(client, ticket):
    supervisor = make_supervisor()
    client.force_login(supervisor)
    assert client.get("/django-admin/tickets/ticket/").status_code in (302, 403)


def test_attachment_page_links_to_the_checked_download_not_media(
    client, admin_user, ticket, agent
):
    """Attachments live in private storage, so their storage URL under MEDIA_URL is
    a dead link; the admin page links to the permission-checked download."""
    from .factories import png_bytes, upload

    services.reply(
        agent, ticket, body="See", attachments=[upload("a b.png", png_bytes())]
    )
    attachment = ticket.attachments.get()
    client.force_login(admin_user)

    page = client.get(f"/django-admin/tickets/attachment/{attachment.pk}/change/")

    assert page.status_code == 200
    body = page.content.decode()
    assert "/media/" not in body
    assert f'href="/portal/attachments/{attachment.pk}/a%20b.png"' in body
    download = client.get(f"/portal/attachments/{attachment.pk}/a%20b.png")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == png_bytes()
