"""Wagtail's admin chrome kept between requests (``portal.admin_chrome``): the sidebar
follows every change that alters it on the next page, per user and per language, and
the page is the one Wagtail renders without the cache."""

import json
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache

from portal import admin_chrome

pytestmark = pytest.mark.django_db

INBOX = "/admin/helpdesk/tickets/"


@pytest.fixture(autouse=True)
def chrome_cache(settings):
    settings.ADMIN_CHROME_CACHE = True  # as with Redis (one process here)
    cache.clear()
    admin_chrome._configs.clear()
    admin_chrome._dialogs.clear()
    yield
    cache.clear()
    admin_chrome._configs.clear()
    admin_chrome._dialogs.clear()


@pytest.fixture
def user_with_profile(make_user, django_capture_on_commit_callbacks):
    """A user made (with the Wagtail profile their first admin page would make) in a
    transaction that committed, as on a running site: the chrome's generation renewed."""
    from wagtail.users.models import UserProfile

    def make(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            user = make_user(*args, **kwargs)
            UserProfile.get_for_user(user)
        assert not admin_chrome._pending()
        return user

    return make


@pytest.fixture
def agent(user_with_profile):
    return user_with_profile("agent@example.com", groups=["Agents"], first_name="Ann")


@pytest.fixture
def disconnected():
    """The chrome's invalidation switched off: what the sidebar would show without it."""
    from django.db.models import signals

    receivers = {
        signal: list(signal.receivers)
        for signal in (signals.post_save, signals.post_delete, signals.m2m_changed)
    }
    for signal in receivers:
        signal.receivers = [
            r for r in signal.receivers if not str(r[0][0]).startswith("admin-chrome-")
        ]
        signal.sender_receivers_cache.clear()
    yield
    for signal, kept in receivers.items():
        signal.receivers = kept
        signal.sender_receivers_cache.clear()


def sidebar(client, **kwargs) -> str:
    response = client.get(INBOX, **kwargs)
    assert response.status_code == 200
    html = response.content.decode()
    return re.search(
        r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>',
        html,
        re.S,
    ).group(1)


def labels(props: str) -> set[str]:
    return set(re.findall(r'"label": "([^"]*)"', json.dumps(json.loads(props))))


def committed(capture, change):
    with capture(execute=True):
        change()


@pytest.mark.parametrize("invalidation", [True, False], ids=["renewed", "denied"])
def test_a_permission_the_group_loses_leaves_the_sidebar_on_the_next_page(
    client, agent, invalidation, request, django_capture_on_commit_callbacks
):
    if not invalidation:
        request.getfixturevalue("disconnected")
    client.force_login(agent)
    assert "Canned responses" in labels(sidebar(client))
    assert cache.get(admin_chrome.GENERATION_KEY) is not None  # kept

    canned = Permission.objects.get(codename="view_cannedresponse")
    committed(
        django_capture_on_commit_callbacks,
        lambda: Group.objects.get(name="Agents").permissions.remove(canned),
    )

    shown = labels(sidebar(client))
    # without the new generation the kept sidebar would still offer the item
    assert ("Canned responses" not in shown) is invalidation


def test_a_new_superuser_flag_shows_at_once(
    client, agent, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    assert "Settings" not in labels(sidebar(client))

    def promote():
        agent.is_superuser = True
        agent.save()

    committed(django_capture_on_commit_callbacks, promote)
    assert "Settings" in labels(sidebar(client))


def test_joining_a_group_shows_at_once(
    client, agent, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    assert "Article helpfulness" not in labels(sidebar(client))
    committed(
        django_capture_on_commit_callbacks,
        lambda: agent.groups.add(Group.objects.get(name="Editors")),
    )
    assert "Article helpfulness" in labels(sidebar(client))  # the editors' report


def test_a_permission_of_the_user_shows_at_once(
    client, agent, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    assert "Redirects" not in labels(sidebar(client))
    committed(
        django_capture_on_commit_callbacks,
        lambda: agent.user_permissions.add(
            Permission.objects.get(codename="add_redirect")
        ),
    )
    assert "Redirects" in labels(sidebar(client))


def test_each_language_has_its_own_sidebar(client, agent, disconnected):
    client.force_login(agent)
    english = labels(sidebar(client))
    polish = labels(sidebar(client, headers={"accept-language": "pl"}))
    assert "Inbox" in english and "Inbox" not in polish
    assert labels(sidebar(client)) == english


def test_two_users_never_share_a_sidebar(
    client, agent, user_with_profile, disconnected
):
    supervisor = user_with_profile(
        "sue@example.com", groups=["Supervisors"], first_name="Sue", is_superuser=True
    )
    client.force_login(agent)
    ann = sidebar(client)
    client.force_login(supervisor)
    sue = sidebar(client)
    assert '"name": "Ann"' in ann and '"name": "Sue"' in sue
    assert "Settings" in labels(sue) and "Settings" not in labels(ann)
    client.force_login(agent)
    assert sidebar(client) == ann


def test_the_kept_chrome_is_what_wagtail_renders(client, agent, settings):
    client.force_login(agent)
    settings.ADMIN_CHROME_CACHE = False
    plain = client.get(INBOX).content.decode()
    settings.ADMIN_CHROME_CACHE = True
    client.get(INBOX)  # kept
    kept = client.get(INBOX).content.decode()

    def masked(html):
        return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", html)

    assert masked(kept) == masked(plain)


def test_a_kept_sidebar_costs_no_statement(client, agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(agent)
    with CaptureQueriesContext(connection) as built:
        client.get(INBOX)
    with CaptureQueriesContext(connection) as kept:
        client.get(INBOX)
    # the page and collection permissions (sidebar) and the locales (configuration)
    assert len(built) - len(kept) == 3
    assert not [q for q in kept if "wagtailcore_grouppagepermission" in q["sql"]]
    assert not [q for q in kept if 'FROM "wagtailcore_locale"' in q["sql"]]


def test_nothing_is_kept_while_a_change_waits_for_its_commit(client, agent):
    client.force_login(agent)
    sidebar(client)
    # a change in this (uncommitted) transaction: its generation is pending
    Group.objects.get(name="Agents").permissions.remove(
        Permission.objects.get(codename="view_cannedresponse")
    )
    assert admin_chrome._pending()
    assert "Canned responses" not in labels(sidebar(client))


def test_off_without_a_shared_cache(settings):
    del settings.ADMIN_CHROME_CACHE
    assert not admin_chrome.enabled()  # the tests' local-memory cache


def _changes(agent):
    from wagtail.models import (
        GroupCollectionPermission,
        GroupPagePermission,
        Locale,
        Page,
        Site,
    )
    from wagtail.users.models import UserProfile

    editors = Group.objects.get(name="Editors")
    root = Page.objects.get(depth=1)
    return {
        "user flag": lambda: agent.__class__.objects.get(pk=agent.pk).save(),
        "user deleted": lambda: agent.delete(),
        "group permission": lambda: editors.permissions.clear(),
        "group renamed": lambda: Group.objects.filter(name="Viewers").get().save(),
        "page permission": lambda: GroupPagePermission.objects.filter(
            group=editors
        ).delete(),
        "collection permission": lambda: GroupCollectionPermission.objects.filter(
            group=editors
        ).delete(),
        "page saved": lambda: root.get_children().first().specific.save(),
        "site": lambda: Site.objects.first().save(),
        "locale": lambda: Locale.objects.create(language_code="pl"),
        "profile": lambda: UserProfile.get_for_user(agent).save(),
    }


@pytest.mark.parametrize(
    "change",
    [
        "user flag",
        "user deleted",
        "group permission",
        "group renamed",
        "page permission",
        "collection permission",
        "page saved",
        "site",
        "locale",
        "profile",
    ],
)
def test_every_change_that_can_alter_a_sidebar_renews_the_generation_on_commit(
    agent, change, django_capture_on_commit_callbacks
):
    before = cache.get(
        admin_chrome.GENERATION_KEY
    ) or admin_chrome.shared_cache.generation(admin_chrome.GENERATION_KEY)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _changes(agent)[change]()
    assert callbacks.count(admin_chrome._renew) == 1  # once per transaction
    assert cache.get(admin_chrome.GENERATION_KEY) != before


def test_signing_in_keeps_the_sidebars(agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        agent.save(update_fields=["last_login"])
    assert admin_chrome._renew not in callbacks


def test_adding_a_group_the_user_already_has_keeps_the_sidebars(
    agent, django_capture_on_commit_callbacks
):
    held = list(agent.groups.all())
    assert held
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        agent.groups.add(*held)  # as every LDAP sign-in does
    assert admin_chrome._renew not in callbacks
    # its twin: a group they did not have renews the generation, once
    editors = Group.objects.get(name="Editors")
    assert editors not in held
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        agent.groups.add(editors)
    assert callbacks.count(admin_chrome._renew) == 1
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        agent.groups.remove(editors)
    assert callbacks.count(admin_chrome._renew) == 1


def test_the_kept_configuration_carries_the_pages_own_csrf_token(client, agent):
    from django.middleware.csrf import _unmask_cipher_token

    client.force_login(agent)
    client.get(INBOX)  # kept
    html = client.get(INBOX).content.decode()
    config = json.loads(
        re.search(r'<script id="wagtail-config" [^>]*>(.*?)</script>', html).group(1)
    )
    in_page = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert config["CSRF_TOKEN"] == in_page  # one token for the page
    secret = client.cookies["csrftoken"].value
    assert _unmask_cipher_token(in_page) == secret  # and a valid one
