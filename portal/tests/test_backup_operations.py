"""Backups that prove they restore: checksums, encryption, refusal of a database with
data, migrations of an empty one, the search index rebuilt, retention, verification in
a scratch database, and one snapshot under concurrent writes."""

import base64
import io
import json
import os
import tarfile
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from accounts.models import User
from portal import backup
from tickets.models import Comment, Ticket
from tickets.tests.factories import QueueFactory, TicketFactory, make_customer


@pytest.fixture
def store(settings, tmp_path):
    settings.BACKUP_LOCATION = str(tmp_path / "backups")
    settings.BACKUP_ENCRYPTION_KEY = ""
    return tmp_path / "backups"


def rewrite_member(archive_path, name, change):
    """Copy of the archive with one member's bytes changed by ``change``."""
    out = archive_path.with_name("changed-" + archive_path.name)
    with tarfile.open(archive_path) as source, tarfile.open(out, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == name:
                data = change(data)
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return out


@pytest.mark.django_db
def test_restore_refuses_a_database_with_data_and_changes_nothing(tmp_path, store):
    make_customer(email="dora@example.com")
    archive = tmp_path / "b.tar.gz"
    call_command("backup", str(archive), verbosity=0)
    User.objects.create_user("late@example.com", password="x")
    with pytest.raises(CommandError, match="already holds users or tickets.*--replace"):
        call_command("restore", str(archive), verbosity=0)
    assert set(User.objects.values_list("email", flat=True)) == {
        "dora@example.com",
        "late@example.com",
    }


@pytest.mark.django_db
def test_restore_checks_every_checksum_before_touching_the_database(tmp_path, store):
    make_customer(email="dora@example.com")
    archive = tmp_path / "b.tar.gz"
    call_command("backup", str(archive), verbosity=0)
    damaged = rewrite_member(
        archive, "data.json", lambda d: d.replace(b"dora@", b"mallory@")
    )
    User.objects.create_user("late@example.com", password="x")
    with pytest.raises(CommandError, match="Checksum mismatch for data.json"):
        call_command("restore", str(damaged), "--replace", "--yes", verbosity=0)
    assert User.objects.filter(email="late@example.com").exists()


@pytest.mark.django_db
def test_a_backup_from_a_newer_version_is_refused_with_a_clear_message(tmp_path, store):
    archive = tmp_path / "b.tar.gz"
    call_command("backup", str(archive), verbosity=0)

    def add_future_migration(raw):
        manifest = json.loads(raw)
        manifest["migrations"].append(["tickets", "9999_from_the_future"])
        return json.dumps(manifest).encode()

    newer = rewrite_member(archive, "manifest.json", add_future_migration)
    with pytest.raises(
        CommandError, match="newer version.*tickets.9999_from_the_future"
    ):
        call_command("restore", str(newer), "--replace", "--yes", verbosity=0)


@pytest.mark.django_db
def test_encrypted_backups_need_the_key(tmp_path, store, settings):
    settings.BACKUP_ENCRYPTION_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
    make_customer(email="dora@example.com")
    name, manifest = backup.create_backup()
    assert name.endswith(".tar.gz.enc")
    raw = (store / name).read_bytes()
    assert raw.startswith(backup.MAGIC)
    assert b"dora@example.com" not in raw and b"manifest" not in raw

    with pytest.raises(backup.BackupError, match="damaged"):
        settings.BACKUP_ENCRYPTION_KEY = base64.urlsafe_b64encode(
            os.urandom(32)
        ).decode()
        backup.read_archive(name, tmp_path)
    settings.BACKUP_ENCRYPTION_KEY = ""
    with pytest.raises(backup.BackupError, match="set BACKUP_ENCRYPTION_KEY"):
        backup.read_archive(name, tmp_path)


def test_encryption_round_trip_and_truncation(tmp_path):
    key = os.urandom(32)
    plain = tmp_path / "plain"
    plain.write_bytes(os.urandom(3 * backup.CHUNK + 17))
    sealed, opened = tmp_path / "sealed", tmp_path / "opened"
    backup.encrypt_file(plain, sealed, key)
    backup.decrypt_file(sealed, opened, key)
    assert opened.read_bytes() == plain.read_bytes()
    truncated = tmp_path / "truncated"
    truncated.write_bytes(sealed.read_bytes()[: -(backup.CHUNK // 2)])
    with pytest.raises(backup.BackupError):
        backup.decrypt_file(truncated, tmp_path / "out", key)
    # a whole last chunk cut off: the previous one is not marked as the last
    whole_chunks = sealed.read_bytes()[
        : len(backup.MAGIC) + 8 + 3 * (4 + backup.CHUNK + 16)
    ]
    truncated.write_bytes(whole_chunks)
    with pytest.raises(backup.BackupError, match="truncated"):
        backup.decrypt_file(truncated, tmp_path / "out", key)


def test_retention_keeps_exactly_7_daily_4_weekly_12_monthly(tmp_path, settings):
    """Given one backup a day through 2026 up to Wednesday 2 December (and an older
    one the same day), then the newest of each of the last 7 days, 4 ISO weeks and
    12 months stay, and nothing else."""
    settings.BACKUP_LOCATION = str(tmp_path)
    day = datetime(2026, 1, 1, 2, 15, tzinfo=UTC)
    while day <= datetime(2026, 12, 2, 3, tzinfo=UTC):
        (tmp_path / backup.backup_name(day, encrypted=False)).write_bytes(b"x")
        day += timedelta(days=1)
    early = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    (tmp_path / backup.backup_name(early, encrypted=False)).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a backup")

    backup.apply_retention()

    kept = sorted(p.name for p in tmp_path.iterdir())
    expected_days = [
        *[f"2026{m:02d}{d:02d}" for m, d in [(1, 31), (2, 28), (3, 31), (4, 30)]],
        *[f"2026{m:02d}{d:02d}" for m, d in [(5, 31), (6, 30), (7, 31), (8, 31)]],
        "20260930",
        "20261031",
        "20261115",  # Sundays: newest of their ISO weeks
        "20261122",
        *[f"202611{d}" for d in (26, 27, 28, 29, 30)],  # 29: a Sunday, 30: month end
        "20261201",
        "20261202",
    ]
    assert kept == sorted(
        [f"backup-{d}-021500.tar.gz" for d in expected_days] + ["notes.txt"]
    )
    assert len(expected_days) == 19


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_restore_rebuilds_the_search_index(tmp_path, store, client):
    from wagtail.models import Locale

    from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage

    index = KnowledgeBasePage.objects.get(locale=Locale.get_default())
    category = CategoryPage(title="Sync", slug="sync")
    index.add_child(instance=category)
    category.save_revision().publish()
    article = ArticlePage(
        title="Teleporting files",
        slug="teleporting-files",
        summary="How files teleport between devices.",
        audience="public",
        body=[("paragraph", "<p>Teleportation of files explained.</p>")],
    )
    category.add_child(instance=article)
    article.save_revision().publish()

    archive = tmp_path / "b.tar.gz"
    call_command("backup", str(archive), verbosity=0)
    ArticlePage.objects.filter(pk=article.pk).delete()
    call_command("restore", str(archive), "--replace", "--yes", verbosity=0)

    query = '{ searchArticles(query: "teleporting") { edges { node { title } } } }'
    response = client.post(
        "/graphql/", {"query": query}, content_type="application/json"
    )
    assert response.status_code == 200
    edges = response.json()["data"]["searchArticles"]["edges"]
    assert [edge["node"]["title"] for edge in edges] == ["Teleporting files"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_verify_restores_the_newest_backup_into_a_scratch_database(store, settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    queue = QueueFactory(slug="support")
    customer = make_customer(email="dora@example.com")
    TicketFactory(requester=customer, queue=queue)
    backup.scheduled_backup()
    [name] = backup.list_backups()

    summary = backup.scheduled_verify()
    assert summary["backup"] == name
    assert summary["rows"] >= 3
    assert backup.last_status()["verify_ok"] == 1
    assert Ticket.objects.count() == 1  # the live database is untouched

    damaged = rewrite_member(
        store / name, "data.json", lambda d: d.replace(b"dora@", b"mallory@")
    )
    later = backup.backup_name(datetime.now(UTC) + timedelta(hours=1), encrypted=False)
    damaged.rename(store / later)
    with pytest.raises(backup.BackupError, match="Checksum mismatch"):
        backup.scheduled_verify()
    assert backup.last_status()["verify_ok"] == 0
    alerts = [m for m in mail.outbox if "Backup" in m.subject]
    assert [(m.subject, m.to) for m in alerts] == [
        ("Backup verification failed", ["ops@example.com"])
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backup_during_concurrent_writes_is_one_consistent_snapshot(tmp_path, store):
    """Writers keep filing a ticket with exactly two comments in one transaction while
    the backup runs: the restored data holds whole tickets only."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers; the snapshot matters on PostgreSQL")
    queue = QueueFactory(slug="support")
    customer = make_customer(email="dora@example.com")
    stop = threading.Event()
    written = []

    def writer():
        from django.db import connections

        try:
            while not stop.is_set():
                with transaction.atomic():
                    ticket = TicketFactory(requester=customer, queue=queue)
                    for n in range(2):
                        Comment.objects.create(
                            ticket=ticket, author=customer, body=f"comment {n}"
                        )
                written.append(ticket.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        archive = tmp_path / "b.tar.gz"
        call_command("backup", str(archive), verbosity=0)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert len(written) > 0
    call_command("restore", str(archive), "--replace", "--yes", verbosity=0)
    tickets = Ticket.objects.count()
    assert Comment.objects.count() == 2 * tickets
    assert all(t.comments.count() == 2 for t in Ticket.objects.all())
