"""The project's own templates, for tests that scan them: what Django loads from this
repository (``TEMPLATES``' ``DIRS`` and the installed apps' ``templates`` folders),
not installed packages nor projects that merely sit in the tree (the side-by-side
benchmark's django-helpdesk project in ``bench/.peer``)."""

from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def project_templates() -> list[Path]:
    """Every ``.html`` template Django can load from this repository, sorted."""
    roots = [Path(folder) for engine in settings.TEMPLATES for folder in engine["DIRS"]]
    roots += [Path(app.path) / "templates" for app in apps.get_app_configs()]
    found = set()
    for root in roots:
        root = root.resolve()
        if not root.is_dir() or not root.is_relative_to(ROOT):
            continue
        if ".venv" in root.relative_to(ROOT).parts:
            continue
        found.update(root.glob("**/*.html"))
    return sorted(found)
