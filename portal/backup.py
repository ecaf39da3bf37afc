"""Backup and restore: the database (as Django fixtures with their primary keys,
content types and permissions included, so it restores onto any supported database
at the same migration state) and the files of both storages, in one tar.gz archive.

The archive holds ``manifest.json`` (format, time, counts), ``data.json`` and the files
under ``files/<storage>/<name>``. Restore refuses an archive whose manifest is missing
or of another format, replaces the database content in one transaction, then writes the
files back.
"""

import io
import json
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.db import transaction

FORMAT = "support-portal-backup/1"
STORAGE_ALIASES = ("attachments", "default")


class BackupError(Exception):
    pass


def _walk(storage, prefix=""):
    try:
        directories, files = storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{prefix}{name}"
    for directory in directories:
        yield from _walk(storage, f"{prefix}{directory}/")


def _counts() -> dict[str, int]:
    wanted = [
        "accounts.User",
        "accounts.Organization",
        "tickets.Ticket",
        "tickets.Comment",
        "tickets.Attachment",
    ]
    counts = {}
    for label in wanted:
        try:
            counts[label] = apps.get_model(label).objects.count()
        except LookupError:
            continue
    return counts


def create_backup(target: Path) -> dict:
    """Write the archive to ``target``; returns the manifest."""
    target = Path(target)
    with tempfile.TemporaryDirectory() as tmp:
        data_path = Path(tmp) / "data.json"
        call_command(
            "dumpdata",
            exclude=settings.BACKUP_EXCLUDE_MODELS,
            output=str(data_path),
            verbosity=0,
        )
        files = {alias: sorted(_walk(storages[alias])) for alias in STORAGE_ALIASES}
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "counts": _counts(),
            "files": {alias: len(names) for alias, names in files.items()},
        }
        with tarfile.open(target, "w:gz") as archive:
            raw = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
            archive.add(data_path, arcname="data.json")
            for alias, names in files.items():
                storage = storages[alias]
                for name in names:
                    with storage.open(name, "rb") as handle:
                        content = handle.read()
                    info = tarfile.TarInfo(f"files/{alias}/{name}")
                    info.size = len(content)
                    archive.addfile(info, io.BytesIO(content))
    return manifest


def _safe_member_name(name: str) -> bool:
    parts = Path(name).parts
    return not name.startswith("/") and ".." not in parts


def restore_backup(source: Path) -> dict:
    """Replace the database content and files with the archive's. Returns the manifest."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"No backup archive at {source}.")
    try:
        archive = tarfile.open(source, "r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(
            f"{source} is not a backup archive ({exc.__class__.__name__})."
        )
    with archive, tempfile.TemporaryDirectory() as tmp:
        try:
            manifest = json.load(archive.extractfile("manifest.json"))
        except (KeyError, ValueError):
            raise BackupError("The archive has no valid manifest.json.")
        if manifest.get("format") != FORMAT:
            raise BackupError(f"Unsupported backup format {manifest.get('format')!r}.")
        data_path = Path(tmp) / "data.json"
        data_path.write_bytes(archive.extractfile("data.json").read())
        with transaction.atomic():
            call_command(
                "flush", interactive=False, verbosity=0, inhibit_post_migrate=True
            )
            call_command("loaddata", str(data_path), verbosity=0)
        for member in archive.getmembers():
            if not member.isfile() or not member.name.startswith("files/"):
                continue
            _, alias, name = member.name.split("/", 2)
            if alias not in STORAGE_ALIASES or not _safe_member_name(name):
                continue
            storage = storages[alias]
            if storage.exists(name):
                storage.delete(name)
            storage.save(name, ContentFile(archive.extractfile(member).read()))
    call_command("update_index", verbosity=0)
    return manifest
