"""The demo site, built by ``manage.py load_demo``.

Each app contributes one ``demo_data.load(context)`` function, run in the order below; each is
idempotent (get_or_create / update_or_create by natural keys), so running the command
twice leaves the same state. ``context`` carries what earlier steps made (users, the home
page, ...) and a ``log`` callable for the summary printed at the end.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from django.utils.module_loading import module_has_submodule

DEMO_STEPS = [
    "portal",
    "accounts",
    "tickets",
    "crm",
    "email_channel",
    "kb",
    "graphql_api",
]


@dataclass
class DemoContext:
    password: str
    log: Callable[[str], None]
    objects: dict = field(default_factory=dict)


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or "demo-password"


def load(log: Callable[[str], None]) -> DemoContext:
    context = DemoContext(password=demo_password(), log=log)
    modules = []
    for app in DEMO_STEPS:
        package = import_module(app)
        if module_has_submodule(package, "demo_data"):
            modules.append(import_module(f"{app}.demo_data"))
            modules[-1].load(context)
    # Work over everything every app made (the ticket statistics, for one).
    for module in modules:
        if hasattr(module, "finish"):
            module.finish(context)
    return context


def load_home(context: DemoContext):
    from django.conf import settings
    from wagtail.models import Locale, Page, Site

    from portal.models import HomePage

    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node()
        if root is None:  # a database emptied by hand (or a transactional test's flush)
            locale, _ = Locale.objects.get_or_create(
                language_code=settings.LANGUAGE_CODE
            )
            root = Page.add_root(
                instance=Page(title="Root", slug="root", locale=locale)
            )
        home = root.add_child(instance=HomePage(title="Help centre", slug="home"))
    changed = False
    if home.intro != "How can we help?":
        home.intro = "How can we help?"
        changed = True
    if changed:
        home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost",
            port=80,
            root_page=home,
            is_default_site=True,
            site_name="Support Portal",
        )
    elif site.root_page_id != home.id or site.site_name != "Support Portal":
        site.root_page = home
        site.site_name = "Support Portal"
        site.save()
    # Wagtail's starter "Welcome" page is replaced by ours.
    Page.objects.filter(depth=2, slug="home").exclude(id=home.id).exclude(
        content_type__model="homepage"
    ).delete()
    context.objects["home"] = home
    return home
