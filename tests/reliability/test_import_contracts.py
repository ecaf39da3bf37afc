"""The import contracts (``[tool.importlinter]`` in pyproject.toml) hold on the tree, and
each one fails when a forbidden import is added: a contract that cannot fail guards
nothing."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    "portal",
    "accounts",
    "tickets",
    "crm",
    "kb",
    "email_channel",
    "webhooks",
    "live",
    "graphql_api",
    "bench",
    "tests",
]
WEBHOOKS_NO_DOMAINS = "webhooks imports no domain app and not graphql_api"
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(tree)}
    return subprocess.run(  # noqa: S603 - fixed arguments
        [LINT_IMPORTS, "--no-logo", "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def broken_contracts(output: str) -> set[str]:
    """The names of the contracts reported broken (``<name> BROKEN [(n ignored
    imports)]``)."""
    return {
        match["name"] for match in re.finditer(r"(?m)^(?P<name>.+) BROKEN\b", output)
    }


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory):
    """The Python packages and pyproject.toml, copied once for the module."""
    copy = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            copy / package,
            ignore=shutil.ignore_patterns("__pycache__", "results", "*.graphql"),
        )
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_the_contracts_hold_on_the_tree():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 13 kept, 0 broken." in result.stdout
    assert broken_contracts(result.stdout) == set()


def test_the_copy_passes_before_it_is_changed(tree_copy):
    """The failures below come from the added import, not from the copy."""
    result = lint_imports(tree_copy)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "module, forbidden_import, broken_contract",
    [
        (
            "accounts/views.py",
            "import tickets.models",
            "accounts does not import tickets",
        ),
        ("kb/services.py", "import tickets.services", "kb does not import tickets"),
        (
            # not portal/cache.py: webhooks imports it, so its own contract (no
            # domain app) breaks too, indirectly
            "portal/health.py",
            "import accounts.models",
            "shared infrastructure imports no domain app",
        ),
        (
            "portal/wsgi.py",
            "import tickets.services",
            "shared infrastructure imports no domain app",
        ),
        (
            "portal/demo.py",
            "import kb.models",
            "shared infrastructure imports no domain app",
        ),
        (
            "portal/notifications/sending.py",
            "import kb.models",
            "shared infrastructure imports no domain app",
        ),
        (
            "tickets/tasks.py",
            "import graphql_api.errors",
            "domain apps do not import the API layer (graphql_api only translates)",
        ),
        (
            "tickets/permissions.py",
            "import tickets.services",
            "tickets: surfaces -> services -> permissions -> models",
        ),
        (
            "tickets/services.py",
            "import tickets.desk.views",
            "tickets: surfaces -> services -> permissions -> models",
        ),
        (
            "tickets/services.py",
            "import tickets.actions",
            "tickets: surfaces -> services -> permissions -> models",
        ),
        (
            "tickets/actions/base.py",
            "import tickets.portal.detail",
            "tickets: surfaces -> services -> permissions -> models",
        ),
        (
            "accounts/models.py",
            "import accounts.permissions",
            "accounts: surfaces -> services -> permissions -> models",
        ),
        (
            "kb/permissions.py",
            "import kb.views",
            "kb: surfaces -> services -> permissions -> models",
        ),
        # webhooks.apps: a module no layer imports, so only this contract breaks.
        ("webhooks/apps.py", "import graphql_api.errors", WEBHOOKS_NO_DOMAINS),
        ("webhooks/apps.py", "import tickets.permissions", WEBHOOKS_NO_DOMAINS),
        ("webhooks/delivery.py", "import kb.permissions", WEBHOOKS_NO_DOMAINS),
        (
            "webhooks/permissions.py",
            "import webhooks.services",
            "webhooks: surfaces -> services -> permissions -> models",
        ),
        (
            "webhooks/models.py",
            "import webhooks.permissions",
            "webhooks: surfaces -> services -> permissions -> models",
        ),
        (
            "webhooks/outbox.py",
            "import webhooks.admin_views",
            "webhooks: surfaces -> services -> permissions -> models",
        ),
        # The page models call nothing above them (kb.rendering reaches them through
        # Wagtail hooks), the caches decide nothing about readers, and the three
        # middle concerns stay apart.
        (
            "kb/models.py",
            "import kb.rendering",
            "kb: surfaces -> services -> permissions -> models",
        ),
        (
            "kb/models.py",
            "import kb.page_cache",
            "kb: surfaces -> services -> permissions -> models",
        ),
        (
            "kb/caching.py",
            "import kb.permissions",
            "kb: surfaces -> services -> permissions -> models",
        ),
        (
            "kb/counters.py",
            "import kb.queries",
            "kb: surfaces -> services -> permissions -> models",
        ),
        (
            "email_channel/parsing.py",
            "import live.publisher",
            "domain apps do not import live",
        ),
        (
            "tickets/services.py",
            "import bench.run",
            "nothing outside bench imports bench",
        ),
        (
            "portal/management/commands/generate_load_data.py",
            "import bench",
            "nothing outside bench imports bench",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tree_copy, module, forbidden_import, broken_contract
):
    path = tree_copy / module
    original = path.read_text()
    path.write_text(original + f"\n{forbidden_import}  # added by the test\n")
    try:
        result = lint_imports(tree_copy)
    finally:
        path.write_text(original)

    assert result.returncode == 1, result.stdout + result.stderr
    assert broken_contracts(result.stdout) == {broken_contract}
