"""The pl and ru catalogues are complete and current.

* every message in ``locale/{pl,ru}/LC_MESSAGES/{django,djangojs}.po`` is translated
  (every plural form) and none is fuzzy;
* the committed catalogues are not stale: ``makemessages`` (as ``make messages`` runs
  it) in a temporary copy of the source finds exactly the committed msgids;
* the committed .mo files are compiled from the committed .po files (a fresh clone
  needs no gettext).

These fail while a string we own is missing or untranslated: add it with
``make messages``, translate it, then ``make compilemessages``.
"""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from .catalogues import DOMAINS, LANGUAGES, ROOT, catalogue_path, read

IGNORED = (".venv", "node_modules", "test-artifacts", "bench", "staticfiles")
COPY_IGNORED = shutil.ignore_patterns(
    *IGNORED, ".git", "__pycache__", "*.pyc", "*.mo", ".ruff_cache", "media"
)


def existing_catalogues():
    found = [
        (language, domain)
        for language in LANGUAGES
        for domain in DOMAINS
        if catalogue_path(language, domain).exists()
    ]
    return found or [("pl", "django")]


def test_every_configured_language_has_a_catalogue():
    codes = {code for code, _ in settings.LANGUAGES} - {settings.LANGUAGE_CODE}
    assert codes == set(LANGUAGES)
    for language in LANGUAGES:
        assert catalogue_path(language, "django").exists(), language


@pytest.mark.parametrize(("language", "domain"), existing_catalogues())
def test_every_message_is_translated_and_none_is_fuzzy(language, domain):
    path = catalogue_path(language, domain)
    entries = read(path)
    assert entries, f"{path} holds no messages"
    problems = [
        f"{path.relative_to(ROOT)}:{e.line}: "
        f"{'fuzzy' if e.fuzzy else 'untranslated'}: {e.msgid[:70]!r}"
        for e in entries
        if e.fuzzy or not e.translated
    ]
    assert not problems, f"{len(problems)} messages need a translator:\n" + "\n".join(
        problems[:50]
    )


def _makemessages_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORED, symlinks=True)
    for domain in DOMAINS:
        subprocess.run(  # noqa: S603 - fixed arguments
            [
                sys.executable,
                "manage.py",
                "makemessages",
                *(f"-l{language}" for language in LANGUAGES),
                *(f"--ignore={name}" for name in IGNORED),
                f"--domain={domain}",
                "--no-obsolete",
            ],
            cwd=copy,
            check=True,
            capture_output=True,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"},
        )
    return copy


def test_the_committed_catalogues_are_not_stale(tmp_path):
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip(
            "GNU gettext's xgettext/msgmerge are not installed (apt-get install "
            "gettext; .ci/run does): cannot regenerate the catalogues to compare"
        )
    copy = _makemessages_copy(tmp_path)
    stale = []
    for language in LANGUAGES:
        for domain in DOMAINS:
            fresh_path = catalogue_path(language, domain, copy)
            committed_path = catalogue_path(language, domain)
            fresh = {e.key for e in read(fresh_path)} if fresh_path.exists() else set()
            committed = (
                {e.key for e in read(committed_path)}
                if committed_path.exists()
                else set()
            )
            for _context, msgid in sorted(fresh - committed, key=str):
                stale.append(f"{language}/{domain}: missing {msgid[:70]!r}")
            for _context, msgid in sorted(committed - fresh, key=str):
                stale.append(
                    f"{language}/{domain}: no longer in the source {msgid[:70]!r}"
                )
    assert not stale, (
        f"{len(stale)} differences; run `make messages`, translate, "
        "`make compilemessages`:\n" + "\n".join(stale[:60])
    )


@pytest.mark.parametrize(("language", "domain"), existing_catalogues())
def test_the_compiled_catalogue_matches_its_source(language, domain):
    po = catalogue_path(language, domain)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(ROOT)} is not committed: make compilemessages"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in read(po):
        if entry.fuzzy or not entry.translated:
            continue
        msgid = (
            entry.msgid
            if entry.msgctxt is None
            else (f"{entry.msgctxt}\x04{entry.msgid}")
        )
        if entry.msgid_plural is None:
            got = compiled.gettext(msgid)
            assert got == entry.msgstr[0], (
                f"{mo.name} is older than {po.name}: {msgid!r}"
            )
        else:
            got = compiled._catalog.get((msgid, 0))
            assert got == entry.msgstr[0], (
                f"{mo.name} is older than {po.name}: {msgid!r}"
            )
