"""``manage.py restore`` onto the databases an operator restores onto after a disaster:
a brand-new, unmigrated one (migrated first, then searchable), and one that cannot be
reached (one clear message, no traceback). Each runs the real command in a separate
process whose ``DATABASE_URL`` is that target."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from wagtail.models import Locale

from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage
from tickets.tests.factories import QueueFactory, TicketFactory, make_customer

ROOT = Path(__file__).resolve().parents[2]

SEARCH = """
import json
from django.test import Client
query = '{ searchArticles(query: "teleporting") { edges { node { title } } } }'
response = Client().post("/graphql/", {"query": query}, content_type="application/json")
print(json.dumps([response.status_code, response.json()]))
"""


def manage(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": database_url,
    }
    return subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def archive(db, tmp_path, settings):
    """A backup of a site with one ticket and one public article."""
    settings.BACKUP_ENCRYPTION_KEY = ""
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
    TicketFactory(
        requester=make_customer(email="dora@example.com"),
        queue=QueueFactory(slug="support"),
        subject="Sync stopped",
    )
    path = tmp_path / "backup.tar.gz"
    call_command("backup", str(path), verbosity=0)
    return path


def test_restore_into_an_unmigrated_database_migrates_it_and_search_finds_articles(
    archive, tmp_path
):
    target = tmp_path / "new.sqlite3"
    url = f"sqlite:///{target}"

    restored = manage(url, "restore", str(archive))

    assert restored.returncode == 0, restored.stderr[-2000:]
    assert "Restored the backup of" in restored.stdout
    assert "Traceback" not in restored.stderr
    with sqlite3.connect(target) as db:
        [(subject,)] = db.execute("SELECT subject FROM tickets_ticket").fetchall()
        applied = db.execute("SELECT COUNT(*) FROM django_migrations").fetchone()[0]
    assert subject == "Sync stopped"
    assert applied > 0

    searched = manage(url, "shell", "-c", SEARCH)
    assert searched.returncode == 0, searched.stderr[-2000:]
    status, body = json.loads(searched.stdout.strip().splitlines()[-1])
    assert status == 200
    assert [e["node"]["title"] for e in body["data"]["searchArticles"]["edges"]] == [
        "Teleporting files"
    ]

    again = manage(url, "restore", str(archive))  # now it holds data: refused
    assert again.returncode == 1
    assert "already holds users or tickets" in again.stderr
    assert "--replace" in again.stderr
    assert "Traceback" not in again.stderr


def test_restore_into_an_unreachable_database_is_one_clear_message(
    archive, closed_port
):
    url = f"postgres://postgres@127.0.0.1:{closed_port}/portal_restored"

    result = manage(url, "restore", str(archive))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith(
        "CommandError: Cannot reach the target database portal_restored on "
        f"127.0.0.1:{closed_port} (OperationalError: "
    )
    assert line.endswith(
        "Check DATABASE_URL and that the server is running, then restore again."
    )
