"""One error vocabulary for the API: every code GraphQL can answer with
(``extensions.code`` or ``OperationMessage.code``) is listed in docs/graphql.md's
"Error codes" tables, and the tables list no code the API never sends.

The domain codes are the members of each domain's ``DomainCode`` enum (every
``errors.py`` of the project's packages is imported, then every subclass walked), so a
new member that the docs do not list fails here before any client sees it."""

import importlib
import re
from pathlib import Path

from portal.domain_errors import INVALID_INPUT, INVALID_STATE, DomainCode, DomainError

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "accounts",
    "crm",
    "email_channel",
    "graphql_api",
    "kb",
    "portal",
    "tickets",
)
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


def documented_rows() -> list[list[str]]:
    text = (ROOT / "docs" / "graphql.md").read_text()
    table = text.split("### Error codes", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in row.split("|")[1:-1]] for row in rows]


def documented_codes() -> set[str]:
    return {
        code
        for cells in documented_rows()
        for code in re.findall(r"`([A-Z][A-Z_]+)`", cells[0])
    }


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def domain_enums() -> list[type[DomainCode]]:
    for package in PACKAGES:
        if (ROOT / package / "errors.py").exists():
            importlib.import_module(f"{package}.errors")
    return [enum for enum in _subclasses(DomainCode) if enum.__module__ != __name__]


def domain_codes() -> dict[str, DomainCode]:
    return {member.value: member for enum in domain_enums() for member in enum}


def test_every_code_the_api_sends_is_documented():
    emitted = emitted_codes()
    assert {"NOT_FOUND", "PERMISSION_DENIED", "INVALID_INPUT"} <= set(emitted)
    missing = {
        code: where for code, where in emitted.items() if code not in documented_codes()
    }
    assert missing == {}


def test_every_documented_code_is_sent_somewhere():
    # METHOD_NOT_ALLOWED is written by the view's HTTP layer (strawberry's), not ours.
    sent = set(emitted_codes()) | set(domain_codes())
    assert documented_codes() - sent <= {"METHOD_NOT_ALLOWED"}


def test_each_domain_has_its_enum():
    names = {f"{enum.__module__}.{enum.__name__}" for enum in domain_enums()}
    assert names == {
        "tickets.errors.TicketErrorCode",
        "accounts.errors.AccountErrorCode",
        "kb.errors.KbErrorCode",
        "crm.errors.CrmErrorCode",
    }


def test_every_domain_code_is_documented_under_its_category():
    categories = {
        code: cells[1]
        for cells in documented_rows()
        for code in re.findall(r"`([A-Z][A-Z_]+)`", cells[0])
    }
    listed = {
        code: categories.get(code) for code in domain_codes() if code in categories
    }
    expected = {code: f"`{member.category}`" for code, member in domain_codes().items()}
    assert listed == expected


def test_domain_codes_are_unique_upper_snake_and_not_api_codes():
    members = [member for enum in domain_enums() for member in enum]
    values = [member.value for member in members]
    assert len(values) == len(set(values)) > 30
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", v) for v in values)
    assert not set(values) & set(emitted_codes())
    assert {member.category for member in members} == {INVALID_INPUT, INVALID_STATE}


def test_a_new_member_the_docs_do_not_list_is_caught():
    """The twin: the enumeration sees a member added to any DomainCode enum."""

    class ProbeCode(DomainCode):
        NOT_DOCUMENTED_ANYWHERE = "NOT_DOCUMENTED_ANYWHERE"

    found = {m.value for enum in _subclasses(DomainCode) for m in enum}
    assert "NOT_DOCUMENTED_ANYWHERE" in found
    assert "NOT_DOCUMENTED_ANYWHERE" not in documented_codes()


def test_a_domain_error_is_a_validation_error_with_its_code():
    from django.core.exceptions import ValidationError

    from tickets.errors import TicketError, TicketErrorCode

    error = TicketError("Nope.", TicketErrorCode.ALREADY_RATED)
    assert isinstance(error, ValidationError)
    assert (error.code, error.messages, error.text) == (
        "ALREADY_RATED",
        ["Nope."],
        "Nope.",
    )
    assert str(error) == str(ValidationError("Nope."))  # as before the codes
    on_field = TicketError("Nope.", TicketErrorCode.UNKNOWN_QUEUE, field="queue")
    assert on_field.message_dict == {"queue": ["Nope."]}
    assert on_field.error_dict["queue"][0].code == TicketErrorCode.UNKNOWN_QUEUE
    assert isinstance(on_field, DomainError)


def test_errors_that_were_value_errors_still_are():
    from accounts.errors import AccountError, AccountErrorCode
    from kb.errors import FeedbackError, KbErrorCode

    for error in (
        AccountError("Unknown role.", AccountErrorCode.UNKNOWN_ROLE),
        FeedbackError("Too long.", KbErrorCode.FEEDBACK_COMMENT_TOO_LONG),
    ):
        assert isinstance(error, ValueError)
        assert str(error) == error.text


def test_the_scan_reads_both_spellings():
    """The twin: the pattern finds a class attribute, a keyword and a constant."""
    sample = 'code = "A_B"\nraise X(code="C_D")\nE_F = "E_F"\nG = "other"\n'
    found = {m.group(1) or m.group(2) for m in EMITTED.finditer(sample)}
    assert found == {"A_B", "C_D", "E_F"}
