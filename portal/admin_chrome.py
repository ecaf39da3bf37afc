"""Wagtail's admin chrome, kept between requests.

Every admin page (the desk's inbox, its search and the ticket workspace among them)
renders three things that come out the same, request after request, for the same
person: the sidebar (``{% sidebar_props %}``: the menu items and search area the user
may see, their explorer start page, their name and avatar), the admin's JavaScript
configuration (``{% wagtail_config %}``: the locales, ~100 translated strings) and the
keyboard shortcuts dialog. Built each time they cost ~27k Python function calls and
three statements (page and collection permissions, locales) a page
(bench/FINDINGS.md, "Admin chrome").

| what | kept in | key | still per request |
|---|---|---|---|
| sidebar props (the JSON script) | shared cache, ``entry_seconds()`` | user id, language, script prefix; tagged with the generation | nothing: it holds no CSRF token and no current URL (the browser marks the active item) |
| ``wagtail_config`` | process | language, script prefix; tagged with the generation | the CSRF token (the page's own, ``{% csrf_token %}``'s), the page's content locale, the user's keyboard shortcuts choice |
| keyboard shortcuts dialog | process | language, Mac or not (User-Agent), the user's keyboard shortcuts choice, comments on or off, script prefix | nothing |

**The rule.** One generation (``GENERATION_KEY``, ``portal.cache.generation``) tags the
sidebars and the configurations; it is renewed when any change that can alter someone's
sidebar commits (``connect``): a user saved or deleted (superuser, staff, active, names,
email), their groups or permissions, a group or its permissions, a permission, Wagtail's
page and collection permissions of groups, a page saved, moved or deleted (the explorer
start page, the Forms menu), a site or a locale, a Wagtail user profile (avatar, the
"dismissed" marks of the Help menu). Roles are groups and every menu item of ours
(``tickets``, ``crm``, ``accounts``, ``kb`` wagtail hooks) is decided by the user, their
roles and permissions, so these signals cover them; a menu item that depended on
anything else (app state, the request) would have to renew the generation too, or
could not be kept.

``AdminChromeMiddleware`` reads the generation before the request loads its user, so
that a sidebar built from data read after a change carries the generation that change
set (or a newer one), never an older one. Nothing is kept or used while the current
transaction has made such a change (its new generation waits for the commit), when the
generation cannot be read (cache down), or outside the admin. An entry also expires
after ``entry_seconds()`` (an uploaded avatar's URL may be signed for a limited time).

On where the cache is shared by every process (Redis), or where ``ADMIN_CHROME_CACHE``
says so; off, the tags are Wagtail's own. The tags are Wagtail's own functions wrapped
(``install``): what a miss renders is exactly what Wagtail renders.
"""

import re
import threading

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.middleware.csrf import get_token
from django.template import Node
from django.urls import get_script_prefix, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from . import cache as shared_cache

GENERATION_KEY = "portal:admin-chrome:generation"
SIDEBAR_KEY = "portal:admin-chrome:sidebar:{user}:{language}:{prefix}"
DEFAULT_ENTRY_SECONDS = 600
# what ``wagtail_config`` takes from the request, the page or the user's profile
REQUEST_CONFIG_KEYS = (
    "CSRF_TOKEN",
    "ACTIVE_CONTENT_LOCALE",
    "KEYBOARD_SHORTCUTS_ENABLED",
)
MAC = re.compile(r"Mac|iPod|iPhone|iPad")  # Wagtail's test for the key labels

_lock = threading.Lock()
_configs: dict[tuple, tuple] = {}  # (language, prefix) → (generation, config)
_dialogs: dict[tuple, str] = {}
_admin_path = None


def enabled() -> bool:
    """``ADMIN_CHROME_CACHE`` (bool) overrides; by default on only when the cache is
    shared by every process: only then does a change made in one process reach the
    sidebars the others keep."""
    return shared_cache.shared_or("ADMIN_CHROME_CACHE")


def entry_seconds() -> int:
    return int(getattr(settings, "ADMIN_CHROME_CACHE_SECONDS", DEFAULT_ENTRY_SECONDS))


def admin_path() -> str:
    global _admin_path
    if _admin_path is None:
        _admin_path = "/" + reverse("wagtailadmin_home")[len(get_script_prefix()) :]
    return _admin_path


class AdminChromeMiddleware:
    """Reads the chrome's generation for admin requests, before anything loads the
    user (sits before ``AuthenticationMiddleware``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if enabled() and request.path_info.startswith(admin_path()):
            request._admin_chrome_generation = shared_cache.generation(GENERATION_KEY)
        return self.get_response(request)


def _generation(request):
    """The generation to keep or use chrome under, or None for "build it afresh"."""
    generation = getattr(request, "_admin_chrome_generation", None)
    if generation is None or not enabled() or _pending():
        return None
    return generation


# --- the tags ---------------------------------------------------------------------


def sidebar_props(context):
    from wagtail.admin.templatetags import wagtailadmin_tags

    request = context["request"]
    generation = _generation(request)
    user = getattr(request, "user", None)
    if generation is None or user is None or not user.is_authenticated:
        return wagtailadmin_tags.sidebar_props(context)
    key = SIDEBAR_KEY.format(
        user=user.pk, language=get_language(), prefix=get_script_prefix()
    )
    kept = cache.get(key)
    if kept is not None and kept[0] == generation:
        return mark_safe(kept[1])  # noqa: S308 - Wagtail's own json_script output
    props = wagtailadmin_tags.sidebar_props(context)
    cache.set(key, (generation, str(props)), entry_seconds())
    return props


def _shortcuts_enabled(user) -> bool:
    profile = getattr(user, "wagtail_userprofile", None)
    return bool(getattr(profile, "keyboard_shortcuts", True))


def _csrf_token(context, request) -> str:
    """The page's CSRF token: the one ``{% csrf_token %}`` puts in its forms (the
    ``csrf`` context processor's, masked once per page) where the context has it,
    else a fresh one (``get_token``, as Wagtail asks); both mask the same secret."""
    token = context.get("csrf_token")
    if token is not None:
        token = str(token)
        if token != "NOTPROVIDED":  # noqa: S105 - the csrf processor's "none"
            return token
    return get_token(request)


def wagtail_config(context):
    from wagtail.admin.templatetags import wagtailadmin_tags

    request = context["request"]
    generation = _generation(request)
    if generation is None:
        return wagtailadmin_tags.wagtail_config(context)
    key = (get_language(), get_script_prefix())
    with _lock:
        kept = _configs.get(key)
    if kept is None or kept[0] != generation:
        config = wagtailadmin_tags.wagtail_config(context)
        shared = {k: v for k, v in config.items() if k not in REQUEST_CONFIG_KEYS}
        with _lock:
            _configs[key] = (generation, shared)
        return config
    config = {"CSRF_TOKEN": _csrf_token(context, request), **kept[1]}
    if locale := context.get("locale"):
        config["ACTIVE_CONTENT_LOCALE"] = locale.language_code
    config["KEYBOARD_SHORTCUTS_ENABLED"] = _shortcuts_enabled(
        getattr(request, "user", None)
    )
    return config


class _KeptDialogNode(Node):
    """Wagtail's keyboard shortcuts dialog, rendered once per combination of what it
    shows (it reads no data)."""

    def __init__(self, node):
        self.node = node

    def render(self, context):
        request = context.get("request")
        if request is None or not enabled():
            return self.node.render(context)
        key = (
            get_language(),
            bool(MAC.search(request.headers.get("User-Agent", ""))),
            _shortcuts_enabled(getattr(request, "user", None)),
            bool(getattr(settings, "WAGTAILADMIN_COMMENTS_ENABLED", True)),
            get_script_prefix(),
            context.autoescape,
        )
        html = _dialogs.get(key)
        if html is None:
            html = self.node.render(context)
            with _lock:
                if len(_dialogs) > 64:
                    _dialogs.clear()
                _dialogs[key] = html
        return html


def install() -> None:
    """Put the keeping tags in place of Wagtail's (before any admin template is
    compiled: ``PortalConfig.ready``)."""
    from wagtail.admin.templatetags import wagtailadmin_tags

    library = wagtailadmin_tags.register
    library.simple_tag(sidebar_props, takes_context=True, name="sidebar_props")
    library.simple_tag(wagtail_config, takes_context=True, name="wagtail_config")
    compile_dialog = library.tags["keyboard_shortcuts_dialog"]
    if getattr(compile_dialog, "kept", False):
        return

    def keyboard_shortcuts_dialog(parser, token):
        return _KeptDialogNode(compile_dialog(parser, token))

    keyboard_shortcuts_dialog.kept = True
    library.tag("keyboard_shortcuts_dialog", keyboard_shortcuts_dialog)


# --- invalidation -----------------------------------------------------------------


def _renew() -> None:
    shared_cache.renewal_ran(_renew)
    with _lock:
        _configs.clear()
    shared_cache.new_generation(GENERATION_KEY)


def _pending(connection=None) -> bool:
    """Whether the current transaction changed something the chrome shows (its new
    generation waits for the commit)."""
    return shared_cache.renewal_pending(_renew, connection)


def invalidate(**kwargs) -> None:
    """Something a sidebar shows changed: a new generation once it commits (one per
    transaction)."""
    shared_cache.renew_on_commit(_renew)


def _user_saved(update_fields=None, **kwargs) -> None:
    if shared_cache.user_save_counts(update_fields):
        invalidate()


def _links_changed(action=None, pk_set=None, **kwargs) -> None:
    """A many-to-many change (a user's groups or permissions, a group's permissions):
    only what it did counts (``portal.cache.links_change_counts``)."""
    if shared_cache.links_change_counts(action, pk_set):
        invalidate()


def connect() -> None:
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import (
        GroupCollectionPermission,
        GroupPagePermission,
        Locale,
        Page,
        Site,
    )
    from wagtail.signals import page_published, page_unpublished, post_page_move
    from wagtail.users.models import UserProfile

    User = get_user_model()

    def on(signal, receiver, sender, name):
        signal.connect(receiver, sender=sender, dispatch_uid=f"admin-chrome-{name}")

    on(post_save, _user_saved, User, "user-saved")
    on(post_delete, invalidate, User, "user-deleted")
    for through, name in (
        (User.groups.through, "user-groups"),
        (User.user_permissions.through, "user-permissions"),
        (Group.permissions.through, "group-permissions"),
    ):
        on(m2m_changed, _links_changed, through, name)
    pages = [m for m in apps.get_models() if issubclass(m, Page)]
    models = [
        Group,
        Permission,
        GroupPagePermission,
        GroupCollectionPermission,
        Site,
        Locale,
        UserProfile,
        *pages,
    ]
    for model in models:
        label = model._meta.label_lower
        on(post_save, invalidate, model, f"{label}-saved")
        on(post_delete, invalidate, model, f"{label}-deleted")
    for signal, name in (
        (post_page_move, "page-moved"),
        (page_published, "page-published"),
        (page_unpublished, "page-unpublished"),
    ):
        signal.connect(invalidate, dispatch_uid=f"admin-chrome-{name}")
