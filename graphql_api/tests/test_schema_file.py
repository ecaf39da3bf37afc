"""The committed SDL is the contract integrators read; it must match the code."""

import pytest
from django.core.management import CommandError, call_command

from graphql_api.management.commands.export_graphql_schema import (
    SCHEMA_PATH,
    render_schema,
)


def test_committed_schema_matches_the_code():
    assert SCHEMA_PATH.read_text() == render_schema(), (
        "graphql_api/schema.graphql is out of date: "
        "run `python manage.py export_graphql_schema` and commit the result."
    )


def test_export_command_check_mode_detects_drift(tmp_path):
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: String }\n")
    with pytest.raises(CommandError):
        call_command("export_graphql_schema", "--check", output=str(stale))
    call_command("export_graphql_schema", output=str(stale))
    assert stale.read_text() == render_schema()
    call_command("export_graphql_schema", "--check", output=str(stale))
