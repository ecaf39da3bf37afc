"""Backup and restore round trip: tickets, comments and files come back identical."""

import hashlib

import pytest
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

from accounts.models import User
from tickets import services
from tickets.models import Attachment, Comment, TalliedUser, Ticket
from tickets.tests.factories import (
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
    png_bytes,
    upload,
)
from tickets.tests.test_visibility_tallies import _counted, _kept


def snapshot():
    tickets = list(
        Ticket.objects.order_by("reference").values_list(
            "reference", "subject", "status", "requester__email"
        )
    )
    comments = list(
        Comment.objects.order_by("ticket__reference", "created_at").values_list(
            "ticket__reference", "body", "is_internal"
        )
    )
    files = {}
    for attachment in Attachment.objects.order_by("id"):
        with storages["attachments"].open(attachment.file.name, "rb") as handle:
            files[attachment.original_name] = hashlib.sha256(handle.read()).hexdigest()
    return tickets, comments, files


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backup_restore_round_trip(tmp_path):
    call_command(
        "migrate", verbosity=0
    )  # transactional tests start from a flushed database
    queue = QueueFactory(slug="support")
    customer = make_customer(email="dora@example.com")
    agent = make_agent(queue, email="agent.x@example.com")
    ticket = TicketFactory(
        requester=customer,
        queue=queue,
        attachments=[upload("screen.png", png_bytes(3, 2))],
    )
    services.reply(agent, ticket, body="We are looking into it.")
    services.self_assign(agent, ticket)  # a view row of the agent's own, tallied
    services.add_internal_note(
        agent,
        ticket,
        body="Probably the proxy.",
        attachments=[upload("log.txt", b"proxy timeout\n")],
    )
    before = snapshot()
    assert len(before[0]) == 1 and len(before[1]) == 2 and len(before[2]) == 2

    archive = tmp_path / "backup.tar.gz"
    call_command("backup", str(archive), verbosity=0)

    # Disaster: data and files gone, and unrelated rows added after the backup.
    for attachment in Attachment.objects.all():
        storages["attachments"].delete(attachment.file.name)
    Ticket.objects.all().delete()
    User.objects.create_user("late@example.com", password="x")

    call_command("restore", str(archive), "--replace", "--yes", verbosity=0)
    assert snapshot() == before
    assert not User.objects.filter(email="late@example.com").exists()
    restored = Ticket.objects.get(reference=ticket.reference)
    assert restored.requester.email == "dora@example.com"
    # the numbers the triggers keep (tickets 0026, 0028), not in the backup, made
    # again by the restored rows: the agent listed, every number as counted
    assert TalliedUser.objects.filter(pk=agent.pk).exists()
    assert _counted()[1] == {(agent.pk, queue.pk): 1}
    assert _kept() == _counted()


@pytest.mark.django_db
def test_restore_refuses_garbage(tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not an archive")
    with pytest.raises(CommandError, match="not a backup archive"):
        call_command("restore", str(bogus), "--yes")
    with pytest.raises(CommandError, match="No backup archive"):
        call_command("restore", str(tmp_path / "missing.tar.gz"), "--yes")
