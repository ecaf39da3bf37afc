"""A small reader for gettext .po catalogues (no dependency needed): entries with
their context, msgid, plural msgid, msgstr(s) and flags; obsolete (``#~``) entries
are left out."""

import ast
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("pl", "ru")
DOMAINS = ("django", "djangojs")


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict = field(default_factory=dict)  # index (0 for singular) → text
    flags: set = field(default_factory=set)
    line: int = 0

    @property
    def key(self):
        return (self.msgctxt, self.msgid)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())


def _string(text: str) -> str:
    return ast.literal_eval(text) if text.startswith('"') else ""


def read(path: Path) -> list[Entry]:
    entries, entry, target = [], None, None

    def finish():
        if entry is not None and (entry.msgid or entry.msgctxt):
            entries.append(entry)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if entry is not None and target is not None and target[0] == "msgstr":
                finish()
                entry, target = None, None
            pending_flags = {f.strip() for f in line[2:].split(",")}
            entry = entry if entry is not None and target is None else Entry()
            entry.flags |= pending_flags
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            value = _string(line)
        elif keyword in ("msgctxt", "msgid") and (
            entry is None or (target is not None and target[0] == "msgstr")
        ):
            finish()
            entry = Entry()
            value = _string(rest)
        else:
            if entry is None:
                entry = Entry()
            value = _string(rest)
        if not line.startswith('"'):
            if keyword.startswith("msgstr["):
                target = ("msgstr", int(keyword[7:-1]))
            elif keyword == "msgstr":
                target = ("msgstr", 0)
            else:
                target = (keyword, None)
            if not entry.line:
                entry.line = number
            if target[0] == "msgstr":
                entry.msgstr.setdefault(target[1], "")
            elif target[0] in ("msgctxt", "msgid_plural"):
                setattr(entry, target[0], "")
        name, index = target
        if name == "msgstr":
            entry.msgstr[index] += value
        else:
            setattr(entry, name, (getattr(entry, name) or "") + value)
    finish()
    return [e for e in entries if e.msgid]  # the header entry has an empty msgid


def catalogue_path(language: str, domain: str, root: Path = ROOT) -> Path:
    return root / "locale" / language / "LC_MESSAGES" / f"{domain}.po"
