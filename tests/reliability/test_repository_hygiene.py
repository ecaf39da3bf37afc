"""No secret is committed, and CI's dependency audit fails only on a real finding."""

import importlib.util
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Patterns of credentials that must never be in a tracked file.
SECRET_PATTERNS = {
    "private key": re.compile(
        r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY"
    ),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(
        r"aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}\b", re.IGNORECASE
    ),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    "Stripe live key": re.compile(r"\b[sr]k_live_[A-Za-z0-9]{20,}\b"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "Django SECRET_KEY literal": re.compile(
        r"^SECRET_KEY\s*=\s*['\"](?!dev-only-|test-only-)[^'\"]{20,}['\"]", re.MULTILINE
    ),
}


def scan(text: str) -> list[str]:
    return [name for name, pattern in SECRET_PATTERNS.items() if pattern.search(text)]


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in listed.decode().split("\0") if name]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE", ["private key"]),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", ["private key"]),
        ("key = 'AKIAIOSFODNN7EXAMPLE'", ["AWS access key id"]),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ["AWS secret access key"],
        ),
        ("token ghp_" + "a" * 36, ["GitHub token"]),
        (
            "SECRET_KEY = 'k3y-that-someone-pasted-from-production'",
            ["Django SECRET_KEY literal"],
        ),
        ('SECRET_KEY = "test-only-secret-key"', []),
        ("AWS_ACCESS_KEY_ID=testing", []),
    ],
)
def test_secret_scanner_recognises_credentials(text, found):
    assert scan(text) == found


def test_no_secret_is_committed():
    findings = []
    for path in tracked_files():
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path.name == Path(__file__).name:
            continue  # this file holds the examples above
        findings += [f"{path.relative_to(ROOT)}: {name}" for name in scan(text)]
    assert findings == []


def _audit_module():
    spec = importlib.util.spec_from_file_location(
        "audit_lock", ROOT / ".ci" / "audit_lock.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_audit_fails_ci_on_a_found_vulnerability():
    report = {
        "dependencies": [
            {
                "name": "django",
                "version": "3.0.0",
                "vulns": [{"id": "PYSEC-2020-1", "fix_versions": ["3.0.1"]}],
            },
            {"name": "requests", "version": "2.34.2", "vulns": []},
        ]
    }
    code, message = _audit_module().verdict(report)
    assert code == 1
    assert message == (
        "Known vulnerabilities in requirements.lock:\n"
        "  django 3.0.0: PYSEC-2020-1 (fix: 3.0.1)"
    )


@pytest.mark.parametrize(
    ("report", "message"),
    [
        (None, "NOTICE: pip-audit could not reach a vulnerability service; skipped."),
        (
            {
                "dependencies": [
                    {"name": "django", "skip_reason": "Dependency not found on PyPI"},
                    {"name": "wagtail", "skip_reason": "Dependency not found on PyPI"},
                ]
            },
            "NOTICE: pip-audit could not audit any of the 2 pinned packages "
            "(vulnerability service unreachable or without data); skipped.",
        ),
        (
            {
                "dependencies": [
                    {"name": "django", "version": "5.2.19", "vulns": []},
                    {"name": "wagtail", "skip_reason": "Dependency not found on PyPI"},
                ]
            },
            "pip-audit: no known vulnerabilities in 1 packages (1 could not be audited).",
        ),
    ],
)
def test_audit_does_not_fail_ci_when_it_cannot_audit(report, message):
    assert _audit_module().verdict(report) == (0, message)


def test_ci_runs_the_audit():
    assert (
        ".venv/bin/python .ci/audit_lock.py requirements.lock"
        in (ROOT / ".ci" / "run").read_text()
    )


def test_ci_audits_the_dev_lock_as_well():
    assert (
        ".venv/bin/python .ci/audit_lock.py requirements-dev.lock"
        in (ROOT / ".ci" / "run").read_text()
    )


# ---- make run installs the runtime lock only; make test / lint add the dev lock --------

DEV_TOOLS = {
    "pytest",
    "pytest-django",
    "pytest-xdist",
    "pytest-playwright",
    "playwright",
    "moto",
    "schemathesis",
    "hypothesis",
    "ruff",
    "import-linter",
    "pip-audit",
    "factory-boy",
}


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        package, _, version = line.partition("==")
        assert version, f"{name}: {line!r} is not pinned with =="
        pins[re.sub(r"[-_.]+", "-", package).lower()] = version
    return pins


def _requirement_name(spec: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", spec).group()).lower()


def test_runtime_lock_holds_no_development_tool():
    runtime = _pins("requirements.lock")
    assert not DEV_TOOLS & set(runtime)
    assert DEV_TOOLS <= set(_pins("requirements-dev.lock"))


def test_locks_pin_each_package_once_and_cover_pyproject():
    import tomllib

    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert not set(runtime) & set(dev)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {_requirement_name(s) for s in project["dependencies"]} <= set(runtime)
    assert {
        _requirement_name(s) for s in project["optional-dependencies"]["dev"]
    } <= set(dev)


def _make_prerequisites() -> dict[str, list[str]]:
    rules = {}
    for line in (ROOT / "Makefile").read_text().splitlines():
        match = re.match(r"^([a-z][a-z-]*):(?!=)\s*(.*)$", line)
        if match:
            rules[match.group(1)] = match.group(2).split()
    return rules


def test_make_run_installs_runtime_only_and_test_tools_add_the_dev_lock():
    rules = _make_prerequisites()
    assert rules["run"] == ["install"]
    assert rules["install"] == ["$(STAMP)"]
    assert rules["install-dev"] == ["$(DEV_STAMP)"]
    for target in ("lint", "format", "fuzz", "bench"):
        assert rules[target] == ["install-dev"], target
    # make test also installs the npm test tools: the SSO tests' OpenID Connect provider
    # and axe-core for the accessibility scan.
    assert rules["test"] == ["install-dev", "oidc-provider", "axe-core"]
    makefile = (ROOT / "Makefile").read_text()
    runtime_recipe = makefile.split("$(STAMP): ")[1].split("\n\n")[0]
    assert "requirements-dev.lock" not in runtime_recipe
    dev_recipe = makefile.split("$(DEV_STAMP): ")[1].split("\n\n")[0]
    assert dev_recipe.startswith("$(STAMP) requirements-dev.lock")
    assert "-r requirements-dev.lock" in dev_recipe


def test_readme_and_docs_link_only_files_a_clone_has():
    """A fresh clone has no ../shared/ directory: every relative link must resolve."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for document in documents:
        text = document.read_text()
        for target in re.findall(r"\]\(([^)#\s]+)", text) + re.findall(
            r"`(\.\./[^`]+)`", text
        ):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = (document.parent / target).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{document.name}: {target}")
    assert broken == []
    assert "docs/architecture.md" in (ROOT / "README.md").read_text()


def test_readme_documents_host_and_port():
    readme = (ROOT / "README.md").read_text()
    assert "| `HOST`, `PORT` |" in readme
    run = (ROOT / "bin" / "run").read_text()
    assert (
        "WAGTAILADMIN_BASE_URL=${WAGTAILADMIN_BASE_URL:-http://$link_host:$PORT}" in run
    )


def test_every_app_with_tests_is_collected_by_make_test():
    """A tests folder pytest never collects is a suite CI never runs (email_channel's
    44 tests were left out of ``testpaths`` for a whole wave)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    testpaths = set(config["tool"]["pytest"]["ini_options"]["testpaths"])
    apps_with_tests = {
        path.parent.name
        for path in ROOT.glob("*/tests")
        if path.is_dir() and (path.parent / "apps.py").exists()
    }
    assert apps_with_tests, "no app with a tests folder found"
    assert apps_with_tests - testpaths == set()
