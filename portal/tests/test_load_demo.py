import pytest
from django.apps import apps
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
