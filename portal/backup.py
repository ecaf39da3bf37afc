"""Backups that prove they restore.

An archive (``backup-YYYYmmdd-HHMMSS.tar.gz``, ``.enc`` appended when encrypted) holds
``manifest.json``, ``data.json`` (Django fixtures with primary keys, content types and
permissions, so it restores onto any supported database) and the files of both
storages under ``files/<storage>/<name>``.

* **One snapshot.** The data is dumped inside one transaction, ``REPEATABLE READ`` on
  PostgreSQL (SQLite's read transaction is a snapshot already): rows written while the
  dump runs are either all in it or all out of it.
* **Checksums.** The manifest lists the SHA-256 of ``data.json`` and of every file,
  the row count of every model, and the migrations applied; restore checks all of it
  before touching the database.
* **Where.** ``BACKUP_LOCATION`` is a folder or ``s3://bucket/prefix`` (with the
  site's S3 credentials); ``BACKUP_ENCRYPTION_KEY`` (32 bytes, URL-safe base64)
  encrypts archives with AES-256-GCM in 1 MiB chunks.
* **Schedule and retention.** ``scheduled_backup`` runs daily and keeps the newest
  backup of each of the last 7 days, 4 ISO weeks and 12 months that have one
  (``BACKUP_KEEP_DAILY`` / ``_WEEKLY`` / ``_MONTHLY``); ``scheduled_verify`` restores
  the newest into a scratch database weekly and compares row counts.
* **Restore** migrates an empty database first, refuses one with data unless told to
  replace it, loads the data, writes the files back and rebuilds the search index.

Over 400 lines on purpose: taking, checking and restoring an archive share its format
(manifest, checksums, encryption); the sections follow that order.
"""

import hashlib
import io
import json
import logging
import os
import re
import struct
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, storages
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

logger = logging.getLogger(__name__)

FORMAT = "support-portal-backup/2"
READABLE_FORMATS = {"support-portal-backup/1", FORMAT}
STORAGE_ALIASES = ("attachments", "default")
NAME = re.compile(r"^backup-(\d{8}-\d{6})\.tar\.gz(\.enc)?$")
CHUNK = 1024 * 1024
MAGIC = b"SPBKENC1"


class BackupError(Exception):
    pass


# --- where backups live -------------------------------------------------------------
def backup_storage():
    """A Django storage over ``BACKUP_LOCATION`` (a folder, or ``s3://bucket/prefix``
    with the S3 settings the site uses for its files)."""
    location = getattr(settings, "BACKUP_LOCATION", "") or str(
        Path(settings.BASE_DIR) / "backups"
    )
    if location.startswith("s3://"):
        from storages.backends.s3 import S3Storage

        bucket, _slash, prefix = location[5:].partition("/")
        options = {
            "bucket_name": bucket,
            "location": prefix.strip("/"),
            "default_acl": "private",
            "file_overwrite": True,
        }
        for option, name in (
            ("endpoint_url", "AWS_S3_ENDPOINT_URL"),
            ("region_name", "AWS_S3_REGION_NAME"),
            ("access_key", "AWS_ACCESS_KEY_ID"),
            ("secret_key", "AWS_SECRET_ACCESS_KEY"),
        ):
            if value := os.environ.get(name):
                options[option] = value
        return S3Storage(**options)
    return FileSystemStorage(location=location, base_url=None)


def backup_name(moment: datetime, *, encrypted: bool) -> str:
    return f"backup-{moment:%Y%m%d-%H%M%S}.tar.gz" + (".enc" if encrypted else "")


def backup_time(name: str) -> datetime | None:
    match = NAME.match(name)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)


def list_backups(storage=None) -> list[str]:
    """Backup names in the store, oldest first."""
    storage = storage or backup_storage()
    try:
        _dirs, files = storage.listdir("")
    except FileNotFoundError:
        return []
    return sorted((n for n in files if backup_time(n)), key=backup_time)


# --- encryption ---------------------------------------------------------------------
def _key() -> bytes | None:
    raw = getattr(settings, "BACKUP_ENCRYPTION_KEY", "") or ""
    if not raw:
        return None
    import base64

    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except ValueError:
        key = b""
    if len(key) != 32:
        raise BackupError(
            "BACKUP_ENCRYPTION_KEY must be 32 bytes in URL-safe base64 "
            "(python -c 'import os,base64;print(base64.urlsafe_b64encode(os.urandom(32)).decode())')."
        )
    return key


def encrypt_file(source: Path, target: Path, key: bytes) -> None:
    """AES-256-GCM in 1 MiB chunks: a random 8-byte prefix and the chunk number make
    each nonce; the last chunk is marked, so a truncated file does not decrypt."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead, prefix = AESGCM(key), os.urandom(8)
    size = source.stat().st_size
    with source.open("rb") as reader, target.open("wb") as writer:
        writer.write(MAGIC + prefix)
        index, done = 0, 0
        while True:
            chunk = reader.read(CHUNK)
            done += len(chunk)
            last = done >= size
            nonce = prefix + struct.pack(">I", index)
            sealed = aead.encrypt(nonce, chunk, b"\x01" if last else b"\x00")
            writer.write(struct.pack(">I", len(sealed)) + sealed)
            index += 1
            if last:
                return


def decrypt_file(source: Path, target: Path, key: bytes) -> None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(key)
    with source.open("rb") as reader, target.open("wb") as writer:
        head = reader.read(len(MAGIC) + 8)
        if head[: len(MAGIC)] != MAGIC:
            raise BackupError("The archive is not an encrypted backup.")
        prefix, index = head[len(MAGIC) :], 0
        while True:
            length = reader.read(4)
            if len(length) < 4:
                raise BackupError("The encrypted archive is truncated.")
            sealed = reader.read(struct.unpack(">I", length)[0])
            nonce = prefix + struct.pack(">I", index)
            for marker in (b"\x00", b"\x01"):
                try:
                    writer.write(aead.decrypt(nonce, sealed, marker))
                    break
                except InvalidTag:
                    continue
            else:
                raise BackupError(
                    "The archive does not decrypt with BACKUP_ENCRYPTION_KEY "
                    "(wrong key or damaged file)."
                )
            index += 1
            if marker == b"\x01":
                return


# --- taking a backup ------------------------------------------------------------------
def _walk(storage, prefix=""):
    try:
        directories, files = storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{prefix}{name}"
    for directory in directories:
        yield from _walk(storage, f"{prefix}{directory}/")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _applied_migrations(using=DEFAULT_DB_ALIAS) -> list[list[str]]:
    from django.db.migrations.recorder import MigrationRecorder

    return sorted(
        [app, name]
        for app, name in MigrationRecorder(connections[using]).applied_migrations()
    )


def _excluded_labels() -> list[str]:
    """``BACKUP_EXCLUDE_MODELS`` that exist here (some only on one database)."""
    labels = []
    for label in settings.BACKUP_EXCLUDE_MODELS:
        try:
            apps.get_model(label) if "." in label else apps.get_app_config(label)
        except LookupError:
            continue
        labels.append(label)
    return labels


def _dump_snapshot(data_path: Path) -> tuple[dict, list]:
    """``dumpdata`` and the migrations applied, in one snapshot of the database."""
    connection = connections[DEFAULT_DB_ALIAS]
    outermost = not connection.in_atomic_block  # else the caller's transaction rules
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
        call_command(
            "dumpdata",
            exclude=_excluded_labels(),
            output=str(data_path),
            verbosity=0,
        )
        migrations = _applied_migrations()
    with data_path.open("rb") as handle:
        counts = Counter(row["model"] for row in json.load(handle))
    return dict(sorted(counts.items())), migrations


def create_archive(target: Path) -> dict:
    """Write an unencrypted archive to ``target``; returns its manifest."""
    target = Path(target)
    with tempfile.TemporaryDirectory() as tmp:
        data_path = Path(tmp) / "data.json"
        counts, migrations = _dump_snapshot(data_path)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "database": connections[DEFAULT_DB_ALIAS].vendor,
            "counts": counts,
            "migrations": migrations,
            "checksums": {"data.json": _sha256(data_path.read_bytes())},
            "files": {},
        }
        with tarfile.open(target, "w:gz") as archive:
            archive.add(data_path, arcname="data.json")
            for alias in STORAGE_ALIASES:
                storage = storages[alias]
                names = sorted(_walk(storage))
                manifest["files"][alias] = len(names)
                for name in names:
                    with storage.open(name, "rb") as handle:
                        content = handle.read()
                    member = f"files/{alias}/{name}"
                    manifest["checksums"][member] = _sha256(content)
                    info = tarfile.TarInfo(member)
                    info.size = len(content)
                    archive.addfile(info, io.BytesIO(content))
            raw = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return manifest


def create_backup(target: Path | None = None) -> tuple[str, dict]:
    """Take a backup; write it to ``target`` (a local path) or to the backup store.
    Returns (where it went, manifest)."""
    key = _key()
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "backup.tar.gz"
        manifest = create_archive(plain)
        final = plain
        if key:
            final = Path(tmp) / "backup.tar.gz.enc"
            encrypt_file(plain, final, key)
        if target is not None:
            Path(target).write_bytes(final.read_bytes())
            return str(target), manifest
        storage = backup_storage()
        name = backup_name(datetime.now(UTC), encrypted=bool(key))
        with final.open("rb") as handle:
            saved = storage.save(name, File(handle, name=name))
    logger.info(
        "Backup %s written", saved, extra={"event": "backup_written", "backup": saved}
    )
    return saved, manifest


# --- retention --------------------------------------------------------------------------
def to_keep(moments: list[datetime], *, daily=7, weekly=4, monthly=12) -> set[datetime]:
    """The newest backup of each of the ``daily`` most recent days that have one, of
    each of the ``weekly`` most recent ISO weeks and of the ``monthly`` most recent
    months (grandfather-father-son)."""
    keep = set()
    for count, period in (
        (daily, lambda m: m.date()),
        (weekly, lambda m: m.isocalendar()[:2]),
        (monthly, lambda m: (m.year, m.month)),
    ):
        newest: dict = {}
        for moment in sorted(moments, reverse=True):
            newest.setdefault(period(moment), moment)
        keep.update(sorted(newest.values(), reverse=True)[:count])
    return keep


def apply_retention(storage=None) -> list[str]:
    """Delete the backups ``to_keep`` does not keep; returns the deleted names."""
    storage = storage or backup_storage()
    names = list_backups(storage)
    keep = to_keep(
        [backup_time(n) for n in names],
        daily=getattr(settings, "BACKUP_KEEP_DAILY", 7),
        weekly=getattr(settings, "BACKUP_KEEP_WEEKLY", 4),
        monthly=getattr(settings, "BACKUP_KEEP_MONTHLY", 12),
    )
    deleted = [n for n in names if backup_time(n) not in keep]
    for name in deleted:
        storage.delete(name)
    return deleted


# --- reading an archive -----------------------------------------------------------------
def _open_local(source, tmp: Path) -> Path:
    """A local, decrypted copy of ``source`` (a path, or a name in the store)."""
    path = Path(source)
    if not path.is_file():
        storage = backup_storage()
        if not NAME.match(str(source)) or not storage.exists(str(source)):
            raise BackupError(f"No backup archive at {source}.")
        path = tmp / str(source)
        with storage.open(str(source), "rb") as handle:
            path.write_bytes(handle.read())
    with path.open("rb") as handle:
        encrypted = handle.read(len(MAGIC)) == MAGIC
    if encrypted:
        key = _key()
        if not key:
            raise BackupError("The archive is encrypted: set BACKUP_ENCRYPTION_KEY.")
        plain = tmp / "decrypted.tar.gz"
        decrypt_file(path, plain, key)
        return plain
    return path


def read_archive(source, tmp: Path) -> tuple[dict, Path, tarfile.TarFile]:
    """Open and check an archive: manifest present and of a known format, every
    checksum matching. Returns (manifest, data.json path, open tar file)."""
    path = _open_local(source, tmp)
    try:
        archive = tarfile.open(path, "r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(
            f"{source} is not a backup archive ({exc.__class__.__name__})."
        )
    try:
        manifest = json.load(archive.extractfile("manifest.json"))
    except (KeyError, ValueError, TypeError):
        archive.close()
        raise BackupError("The archive has no valid manifest.json.")
    if manifest.get("format") not in READABLE_FORMATS:
        archive.close()
        raise BackupError(f"Unsupported backup format {manifest.get('format')!r}.")
    checksums = manifest.get("checksums", {})
    data_path = tmp / "data.json"
    data_path.write_bytes(archive.extractfile("data.json").read())
    for member in archive.getmembers():
        if member.name == "manifest.json" or not member.isfile():
            continue
        expected = checksums.get(member.name)
        if expected is None and manifest["format"] == FORMAT:
            archive.close()
            raise BackupError(f"{member.name} is not listed in the manifest.")
        if expected and _sha256(archive.extractfile(member).read()) != expected:
            archive.close()
            raise BackupError(
                f"Checksum mismatch for {member.name}: the archive is damaged."
            )
    return manifest, data_path, archive


# --- restoring -------------------------------------------------------------------------
def _safe_member_name(name: str) -> bool:
    parts = Path(name).parts
    return not name.startswith("/") and ".." not in parts


def database_has_data(using=DEFAULT_DB_ALIAS) -> bool:
    """Whether the database holds anything a restore would destroy: people or
    tickets (a freshly migrated database holds neither, an unmigrated one no tables).
    A database that cannot be reached is a ``BackupError`` naming it."""
    connection = connections[using]
    try:
        tables = set(connection.introspection.table_names())
    except DatabaseError as error:
        raise BackupError(
            f"Cannot reach the target database {_describe(using)} "
            f"({error.__class__.__name__}: {str(error).strip().splitlines()[0]}). "
            "Check DATABASE_URL and that the server is running, then restore again."
        ) from error
    for label in ("accounts.User", "tickets.Ticket"):
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        if model._meta.db_table in tables and model.objects.using(using).exists():
            return True
    return False


def _describe(using) -> str:
    """The database's name and host, without its password."""
    config = connections.settings[using]
    host = config.get("HOST") or ""
    port = f":{config['PORT']}" if config.get("PORT") else ""
    where = f" on {host}{port}" if host else ""
    return f"{config.get('NAME')!s}{where}"


def _check_migrations(manifest: dict, using) -> None:
    from django.db.migrations.loader import MigrationLoader

    known = set(
        MigrationLoader(connections[using], ignore_no_migrations=True).disk_migrations
    )
    unknown = [
        tuple(m) for m in manifest.get("migrations", []) if tuple(m) not in known
    ]
    if unknown:
        raise BackupError(
            "The backup was taken by a newer version of the portal (unknown migrations: "
            + ", ".join(f"{a}.{n}" for a, n in unknown[:5])
            + "). Upgrade the code first, then restore."
        )


#: Models that moved to another app with their tables unchanged: a backup taken before
#: the move names them (and their content types) by the old label.
MOVED_MODELS = {
    "graphql_api.webhook": "webhooks.webhook",
    "graphql_api.webhookdelivery": "webhooks.webhookdelivery",
}


def _moved_label(label: str) -> str:
    return MOVED_MODELS.get(label.lower(), label)


def _rewrite_moved_models(manifest: dict, data_path: Path) -> Path:
    """``data_path`` with the old labels of moved models (rows and content types)
    replaced by today's, and the manifest's counts likewise; the same path when the
    backup names none."""
    with open(data_path, encoding="utf-8") as handle:
        rows = json.load(handle)
    changed = False
    for row in rows:
        label = row.get("model", "")
        if _moved_label(label) != label:
            row["model"] = _moved_label(label)
            changed = True
        elif label == "contenttypes.contenttype":
            fields = row.get("fields", {})
            old = f"{fields.get('app_label')}.{fields.get('model')}"
            if old in MOVED_MODELS:
                fields["app_label"] = MOVED_MODELS[old].split(".")[0]
                changed = True
    counts = manifest.get("counts")
    if isinstance(counts, dict):
        manifest["counts"] = {_moved_label(k): v for k, v in counts.items()}
    if not changed:
        return data_path
    rewritten = data_path.with_name(data_path.stem + ".current-labels.json")
    with open(rewritten, "w", encoding="utf-8") as handle:
        json.dump(rows, handle)
    return rewritten


def load_database(manifest: dict, data_path: Path, *, using=DEFAULT_DB_ALIAS) -> None:
    """Migrate ``using`` to this code's schema, replace its content with the
    backup's and check the row counts."""
    _check_migrations(manifest, using)
    data_path = _rewrite_moved_models(manifest, Path(data_path))
    call_command("migrate", database=using, interactive=False, verbosity=0)
    with transaction.atomic(using=using):
        call_command(
            "flush",
            database=using,
            interactive=False,
            verbosity=0,
            inhibit_post_migrate=True,
        )
        call_command("loaddata", str(data_path), database=using, verbosity=0)
        # the numbers the triggers keep (tickets 0026, 0028), not in the backup: the
        # grants were loaded before the permissions the triggers look up
        call_command("recount_tallies", database=using, verbosity=0)
    if manifest["format"] == FORMAT:
        differences = compare_counts(manifest["counts"], using=using)
        if differences:
            raise BackupError(f"Row counts differ after loading: {differences}")


def compare_counts(expected: dict, *, using=DEFAULT_DB_ALIAS) -> dict:
    """{model: (expected, found)} for every model whose row count differs."""
    differences = {}
    for label, count in expected.items():
        found = apps.get_model(label).objects.using(using).count()
        if found != count:
            differences[label] = (count, found)
    return differences


def restore_backup(source, *, replace: bool = False, database_only=False) -> dict:
    """Restore the archive at ``source`` (a path, or a name in the backup store).
    Refuses a database that holds data unless ``replace``. ``database_only``: load
    and check the data, leave files and the search index alone (``verify_backup``).
    Returns the manifest."""
    if not replace and database_has_data():
        raise BackupError(
            "The database already holds users or tickets. Restore into an empty "
            "database, or pass --replace to delete everything in it first."
        )
    with tempfile.TemporaryDirectory() as tmp:
        manifest, data_path, archive = read_archive(source, Path(tmp))
        with archive:
            load_database(manifest, data_path)
            if database_only:
                return manifest
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
    # loaddata fills the search index only partly: rebuild it.
    call_command("update_index", verbosity=0)
    return manifest


# --- verifying --------------------------------------------------------------------------
class scratch_database:  # noqa: N801 - used as a context manager
    """A throw-away database beside the default one (a temporary SQLite file, or a
    new PostgreSQL database on the same server); yields its ``DATABASE_URL``.

    The restore runs in a separate process whose default database is the scratch one:
    data migrations (Wagtail's among them) write to the default database, so migrating
    a second alias in this process would write into the live one."""

    def __enter__(self):
        base = connections.settings[DEFAULT_DB_ALIAS]
        self.vendor = connections[DEFAULT_DB_ALIAS].vendor
        if self.vendor == "sqlite":
            self.tmp = tempfile.TemporaryDirectory()
            return f"sqlite:///{Path(self.tmp.name) / 'verify.sqlite3'}"
        if self.vendor != "postgresql":
            raise BackupError(f"verify_backup does not support {self.vendor}.")
        self.name = f"{base['NAME']}_verify_{os.getpid()}"[:63]
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
            cursor.execute(f'CREATE DATABASE "{self.name}"')
        auth = quote(base["USER"] or "")
        if base["PASSWORD"]:
            auth += ":" + quote(base["PASSWORD"])
        host = base["HOST"] or "localhost"
        port = f":{base['PORT']}" if base["PORT"] else ""
        return f"postgres://{auth}@{host}{port}/{self.name}"

    def __exit__(self, *exc):
        if self.vendor == "sqlite":
            self.tmp.cleanup()
        else:
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        return False


def verify_backup(source=None) -> dict:
    """Restore ``source`` (default: the newest backup in the store) into a scratch
    database and compare every model's row count with the manifest. Raises
    ``BackupError`` on any difference; returns a summary."""
    with tempfile.TemporaryDirectory() as tmp:
        if source is None:
            names = list_backups()
            if not names:
                raise BackupError("There is no backup to verify.")
            source = names[-1]
        manifest, _data_path, archive = read_archive(source, Path(tmp))
        archive.close()
        local = Path(tmp) / "archive.tar.gz"
        local.write_bytes(_open_local(source, Path(tmp)).read_bytes())
        with scratch_database() as url:
            result = subprocess.run(  # noqa: S603 - our own manage.py
                [
                    sys.executable,
                    str(Path(settings.BASE_DIR) / "manage.py"),
                    "restore",
                    str(local),
                    "--database-only",
                ],
                env={**os.environ, "DATABASE_URL": url},
                capture_output=True,
                text=True,
                timeout=3600,
            )
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise BackupError(
            f"Restoring {source} into a scratch database failed: {detail}"
        )
    return {
        "backup": str(source),
        "created_at": manifest["created_at"],
        "models": len(manifest["counts"]),
        "rows": sum(manifest["counts"].values()),
    }


# --- scheduled jobs (portal.schedules) ------------------------------------------------
STATUS_KEY = "backup:status"


def _record(**fields) -> None:
    """The latest outcome, for ``/metrics`` (kept in the shared cache)."""
    from django.core.cache import cache

    status = cache.get(STATUS_KEY) or {}
    status.update(fields)
    cache.set(STATUS_KEY, status, None)


def last_status() -> dict:
    from django.core.cache import cache

    return cache.get(STATUS_KEY) or {}


def scheduled_backup() -> str:
    """Daily: take a backup into the store, then apply the retention policy."""
    name, _manifest = create_backup()
    deleted = apply_retention()
    _record(last_backup_at=datetime.now(UTC).timestamp())
    logger.info(
        "Backup %s taken; %d old backups deleted",
        name,
        len(deleted),
        extra={"event": "backup_retention", "deleted": deleted},
    )
    return name


def _alert_admins(error: Exception) -> None:
    """One email per ``ADMINS`` address, written to the notification outbox (the one
    email mechanism), so a passing SMTP outage delays the alert instead of losing it."""
    from portal.notifications.dispatch import notify_address_after_commit

    failed_at = datetime.now(UTC).isoformat()
    for _name, address in settings.ADMINS:
        notify_address_after_commit(
            "backup_verify_failed",
            address,
            context={"error": str(error)},
            idempotency_key=f"backup-verify:{failed_at}:{address}",
        )


def scheduled_verify() -> dict:
    """Weekly: restore the newest backup into a scratch database. A failure is
    logged, recorded for ``/metrics`` and mailed to the administrators."""
    try:
        summary = verify_backup()
    except Exception as error:
        _record(verify_ok=0, last_verify_at=datetime.now(UTC).timestamp())
        logger.error(
            "Backup verification failed: %s",
            error,
            extra={"event": "backup_verify_failed"},
        )
        _alert_admins(error)
        raise
    _record(verify_ok=1, last_verify_at=datetime.now(UTC).timestamp())
    return summary
