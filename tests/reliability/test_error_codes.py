"""One error vocabulary for the API: every code GraphQL can answer with
(``extensions.code`` or ``OperationMessage.code``) is listed in docs/graphql.md's
"Error codes" table, and the table lists no code the API never sends."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# code = "X", code="X", X = "X" (the constants of graphql_api.validation)
EMITTED = re.compile(r'\bcode\s*=\s*"([A-Z][A-Z_]+)"|^([A-Z][A-Z_]+) = "\2"', re.M)


def emitted_codes() -> dict[str, str]:
    codes = {}
    for path in sorted((ROOT / "graphql_api").rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for match in EMITTED.finditer(path.read_text()):
            codes[match.group(1) or match.group(2)] = str(path.relative_to(ROOT))
    return codes


def documented_codes() -> set[str]:
    text = (ROOT / "docs" / "graphql.md").read_text()
    table = text.split("### Error codes", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return {
        code
        for row in rows
        for code in re.findall(r"`([A-Z][A-Z_]+)`", row.split("|")[1])
    }


def test_every_code_the_api_sends_is_documented():
    emitted = emitted_codes()
    assert {"NOT_FOUND", "PERMISSION_DENIED", "INVALID_INPUT"} <= set(emitted)
    missing = {
        code: where for code, where in emitted.items() if code not in documented_codes()
    }
    assert missing == {}


def test_every_documented_code_is_sent_somewhere():
    # METHOD_NOT_ALLOWED is written by the view's HTTP layer (strawberry's), not ours.
    assert documented_codes() - set(emitted_codes()) <= {"METHOD_NOT_ALLOWED"}


def test_the_scan_reads_both_spellings():
    """The twin: the pattern finds a class attribute, a keyword and a constant."""
    sample = 'code = "A_B"\nraise X(code="C_D")\nE_F = "E_F"\nG = "other"\n'
    found = {m.group(1) or m.group(2) for m in EMITTED.finditer(sample)}
    assert found == {"A_B", "C_D", "E_F"}
