import logging

import pytest
from django.apps import apps
from django.core import mail
from django.core.management import call_command


def snapshot():
    """Row counts of every model: the demo's whole state, cheaply."""
    skip = {
        "django_q.Success",
        "django_q.Failure",
        "django_q.Task",
        "sessions.Session",
        "wagtailcore.ModelLogEntry",
        "wagtailcore.PageLogEntry",
    }
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.label not in skip and not model._meta.proxy
    }


@pytest.mark.django_db
def test_load_demo_twice_leaves_the_same_state(capsys):
    call_command("load_demo")
    first = snapshot()
    call_command("load_demo")
    second = snapshot()
    assert first == second
    out = capsys.readouterr().out
    assert "Demo password: demo-password" in out


@pytest.mark.django_db
def test_load_demo_uses_demo_password_from_environment(monkeypatch, capsys):
    monkeypatch.setenv("DEMO_PASSWORD", "another-secret-pw")
    call_command("load_demo")
    assert "Demo password: another-secret-pw" in capsys.readouterr().out


@pytest.mark.django_db
def test_load_demo_prints_a_short_summary_without_emails_or_task_lines(
    capsys, caplog, settings
):
    settings.WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8123"
    caplog.set_level(logging.DEBUG)
    call_command("load_demo")
    out, err = capsys.readouterr()
    # The moderation emails Wagtail sends for the demo's submitted page are not sent
    # (nor printed by the console backend), and no task writes a line per run.
    assert mail.outbox == []
    assert "Content-Type:" not in out + err
    assert not [r for r in caplog.records if "Task id=" in r.getMessage()]
    assert not [
        r for r in caplog.records if r.name.startswith(("django_tasks", "django-q"))
    ]
    # nor a line per page Wagtail creates, edits and publishes
    assert not [
        r
        for r in caplog.records
        if r.name.startswith("wagtail") and r.levelno < logging.WARNING
    ]
    lines = out.splitlines()
    assert len(lines) < 30
    for path in ("/", "/portal/", "/admin/"):
        assert any(
            line.split()[0] == f"http://127.0.0.1:8123{path}"
            for line in lines
            if line.strip()
        )
    accounts = {
        line.split()[0]: " ".join(line.split()[1:])
        for line in lines
        if line.startswith("  ") and "@" in line.split()[0]
    }
    assert accounts == {
        "admin@example.com": "administrator (superuser)",
        "editor@example.com": "Editors",
        "supervisor@example.com": "Supervisors",
        "agent@example.com": "Agents",
        "billing.agent@example.com": "Agents",
        "viewer@example.com": "Viewers",
        "alice@acme.example": "customer, manager at Acme",
        "bob@acme.example": "customer, member at Acme",
        "carol@globex.example": "customer, manager at Globex",
    }
    # The email backend and the loggers are back as they were after the command.
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
    assert logging.getLogger("django_tasks").level == logging.NOTSET


@pytest.mark.django_db
def test_demo_pages_frame_nothing_the_content_security_policy_blocks(client, settings):
    """The demo's tour video lives on a host that does not exist: it is a link, not an
    iframe the CSP would block (a console error Lighthouse counted on the article)."""
    import re

    from kb.models import ArticlePage

    call_command("load_demo")
    allowed = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["frame-src"]
    with_embeds = [
        article
        for article in ArticlePage.objects.live().public()
        if any(block.block_type == "embed" for block in article.body)
    ]
    assert len(with_embeds) == 3  # en, pl, ru "What is Lumen?"
    for article in with_embeds:
        html = client.get(article.url).content.decode()
        assert 'href="https://videos.lumen.example/tour">Lumen in two minutes' in html
        for src in re.findall(r"<iframe[^>]* src=\"([^\"]+)\"", html):
            assert any(
                src.startswith(origin) for origin in allowed if origin != "'self'"
            ) or src.startswith("/"), src
