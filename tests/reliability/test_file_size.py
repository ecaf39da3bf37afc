"""No Python file over ~400 lines without a reason at its top.

A long module usually holds more than one concept. One that is long on purpose (a table
of data, the one policy layer) or due to be split says so in its first lines, with a
line starting "Over 400 lines" (e.g. "Over 400 lines on purpose: …" or "Over 400
lines until split: …") or "Size:". Migrations are generated and exempt.
"""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400
HEAD = 30  # lines in which the reason must stand
REASON = re.compile(r"^\s*(#\s*)?(\"\"\")?\s*(Over 400 lines\b|Size:)\s*\S", re.M)


def python_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "*.py"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [
        ROOT / name
        for name in listed.decode().split("\0")
        if name and "/migrations/" not in name and (ROOT / name).exists()
    ]


def states_a_reason(text: str) -> bool:
    head = "\n".join(text.splitlines()[:HEAD])
    match = REASON.search(head)
    # A reason, not just the words: something after the colon.
    return bool(match) and len(head[match.end() - 1 :].split("\n")[0].strip()) > 10


def test_every_long_file_states_why_at_its_top():
    files = python_files()
    assert len(files) > 100  # the listing found the project at all
    unexplained = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n") + (not text.endswith("\n"))
        if lines > LIMIT and not states_a_reason(text):
            unexplained[str(path.relative_to(ROOT))] = lines
    assert unexplained == {}, (
        "split these files, or state at their top why they are one file "
        "('Over 400 lines on purpose: …' / 'Over 400 lines until split: …')"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('"""Tickets.\n\nOver 400 lines on purpose: the one policy layer."""\n', True),
        ("# Size: a table of demo data, no logic.\n", True),
        ('"""Over 400 lines until split: searching moves to kb/search.py."""\n', True),
        ('"""Tickets and more."""\n', False),
        ('"""Over 400 lines"""\n', False),  # the words without a reason
        ("\n" * HEAD + "# Size: below the head, unseen.\n", False),
    ],
)
def test_the_reason_line_is_recognised(text, reason):
    assert states_a_reason(text) is reason
