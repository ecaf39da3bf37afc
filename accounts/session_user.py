"""The signed-in user of a request, read with their role names in one kept statement.

Django's ``AuthenticationMiddleware`` loads the session's user through the backend
that signed them in (``ModelBackend.get_user``: the ORM builds and compiles a
``SELECT … WHERE id = %s`` each request, ~1.5k Python calls) and the first
permission check of the request reads their role names in a second statement
(``roles.group_names``). ``SessionUserMiddleware`` replaces it: for a session signed
in through a backend whose ``get_user`` is ``ModelBackend``'s own (Django's
``ModelBackend`` and allauth's ``AuthenticationBackend``), the user and their role
names are one statement compiled once per process (``portal.sql.KeptStatement``),
the names kept as ``group_names`` keeps them. Every other case (no session, a
backend not in ``AUTHENTICATION_BACKENDS``, a backend with its own ``get_user`` such
as LDAP's) is Django's ``auth.get_user`` itself.

Every admin request asks Wagtail's access check (``require_admin_access``:
``user.has_perms(["wagtailadmin.access_admin"])``), which makes ``ModelBackend`` read
the user's own permissions and their groups' in two statements (~2.8k Python calls).
For a request under the admin the kept statement reads both sets too, as
``ModelBackend._get_permissions`` reads them (``app_label.codename`` of the user's
``user_permissions`` and of the permissions of their groups), and leaves them where it
keeps them (``_user_perm_cache``, ``_group_perm_cache``): its answers are the same,
read at the start of the request instead of at the first check. Not for superusers
(``ModelBackend`` reads every permission for them; their checks pass before it is
asked), nor when a configured backend reads permissions its own way.

``get_user`` below is Django 5.2's ``django.contrib.auth.get_user`` with the backend's
read replaced, nothing else: the same session key, the same inactive-user refusal
(``user_can_authenticate``), the same session-hash check (a password change ends
other sessions), the same fallback-secret rotation and the same flush. The tests
compare it with Django's on each branch. Locked accounts are ended by
``accounts.middleware.AccountSecurityMiddleware`` after this, as before.
"""

import json
from functools import lru_cache

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from portal.admin_chrome import admin_path
from portal.sql import KeptStatement

from . import roles


def _user_by_pk(pk):
    # What ModelBackend.get_user reads (the default manager, by primary key), with
    # the role names ``group_names`` would read next.
    return roles.annotate_role_names(
        get_user_model()._default_manager.filter(pk=pk).order_by()
    )


def _permission_names(permissions, user_path):
    """The ``app_label.codename`` of ``permissions`` (correlated to the user read) as
    a JSON array in text, or NULL for none."""
    return Subquery(
        permissions.order_by()
        .values(user_path)
        .annotate(
            names=roles.NameArray(
                Concat("content_type__app_label", Value("."), "codename")
            )
        )
        .values("names")
    )


def _admin_user_by_pk(pk):
    # ... and the two sets ModelBackend reads for the admin's access check:
    # ``_get_user_permissions`` (user_permissions) and ``_get_group_permissions``
    # (the permissions of the user's groups).
    user = OuterRef("pk")
    return _user_by_pk(pk).annotate(
        _user_permission_names=_permission_names(
            Permission.objects.filter(user=user), "user"
        ),
        _group_permission_names=_permission_names(
            Permission.objects.filter(group__user=user), "group__user"
        ),
    )


# read by every signed-in request: prepared on the server once per connection (a read
# by primary key: one plan fits all)
_BY_PK = KeptStatement(_user_by_pk, ("pk",), prepare=True)
_ADMIN_BY_PK = KeptStatement(_admin_user_by_pk, ("pk",), prepare=True)
_PERMISSION_READS = (
    "_get_permissions",
    "_get_user_permissions",
    "_get_group_permissions",
)


@lru_cache(maxsize=8)
def _permissions_read_as_model_backend(backend_paths: tuple[str, ...]) -> bool:
    """Whether every configured backend that keeps ``ModelBackend``'s permission
    caches fills them as ``ModelBackend`` does."""
    kinds = [type(load_backend(path)) for path in backend_paths]
    return all(
        getattr(kind, name) is getattr(ModelBackend, name)
        for kind in kinds
        if issubclass(kind, ModelBackend)
        for name in _PERMISSION_READS
    )


def _remember_permissions(user) -> None:
    """Keep the permission names ``_ADMIN_BY_PK`` read where ``ModelBackend`` keeps
    what it reads (``_get_permissions``), for an active user who is not a
    superuser."""
    own = user.__dict__.pop("_user_permission_names")
    of_groups = user.__dict__.pop("_group_permission_names")
    if user.is_active and not user.is_superuser:
        user._user_perm_cache = set(json.loads(own or "[]"))
        user._group_perm_cache = set(json.loads(of_groups or "[]"))


def _reads_as_model_backend(backend) -> bool:
    kind = type(backend)
    return (
        kind.get_user is ModelBackend.get_user
        and kind.user_can_authenticate is ModelBackend.user_can_authenticate
    )


def _read_user(backend, model, user_id, with_permissions=False):
    """``backend.get_user(user_id)`` for a backend that reads as ``ModelBackend``
    does (``model``: ``get_user_model()``): the user or None (none with that key, or
    inactive), with role names (and model permissions, ``with_permissions``)."""
    using = router.db_for_read(model) or DEFAULT_DB_ALIAS
    low, high = connections[using].ops.integer_field_range(
        model._meta.pk.get_internal_type()
    )
    if not isinstance(user_id, int) or not low <= user_id <= high:
        # a key the ORM would not look up: Django's backend reads it its own way
        return backend.get_user(user_id)
    statement = _ADMIN_BY_PK if with_permissions else _BY_PK
    found = statement.instances(using, pk=user_id)
    if not found:
        return None
    (user,) = roles.remembered(found)
    if with_permissions:
        _remember_permissions(user)
    return user if backend.user_can_authenticate(user) else None


def get_user(request):
    """The session's user or ``AnonymousUser``, as ``django.contrib.auth.get_user``."""
    try:
        backend_path = request.session[BACKEND_SESSION_KEY]
    except KeyError:
        return auth.get_user(request)
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return auth.get_user(request)
    backend = load_backend(backend_path)
    if not _reads_as_model_backend(backend):
        return auth.get_user(request)
    model = get_user_model()
    try:
        # ``auth._get_user_session_key``, the model asked for once
        user_id = model._meta.pk.to_python(request.session[SESSION_KEY])
    except KeyError:
        return AnonymousUser()
    with_permissions = request.path_info.startswith(
        admin_path()
    ) and _permissions_read_as_model_backend(tuple(settings.AUTHENTICATION_BACKENDS))
    user = _read_user(backend, model, user_id, with_permissions)
    # From here on Django's own lines: verify the session.
    if hasattr(user, "get_session_auth_hash"):
        session_hash = request.session.get(HASH_SESSION_KEY)
        if not session_hash:
            session_hash_verified = False
        else:
            session_auth_hash = user.get_session_auth_hash()
            session_hash_verified = constant_time_compare(
                session_hash, session_auth_hash
            )
        if not session_hash_verified:
            if session_hash and any(
                constant_time_compare(session_hash, fallback_auth_hash)
                for fallback_auth_hash in user.get_session_auth_fallback_hash()
            ):
                request.session.cycle_key()
                request.session[HASH_SESSION_KEY] = session_auth_hash
            else:
                request.session.flush()
                user = None
    return user or AnonymousUser()


def _cached_user(request):
    if not hasattr(request, "_cached_user"):
        request._cached_user = get_user(request)
    return request._cached_user


class SessionUserMiddleware(AuthenticationMiddleware):
    """Django's ``AuthenticationMiddleware`` with ``get_user`` above for
    ``request.user`` (``request.auser`` is Django's). Read lazily as there; once read,
    ``request.user`` is the user itself (as after ``auth.login``), not the lazy proxy
    that costs three Python calls an attribute read (~10 reads a signed-in request),
    unless something set ``request.user`` since."""

    def process_request(self, request):
        super().process_request(request)  # its checks, and request.auser

        def read():
            user = _cached_user(request)
            if request.__dict__.get("user") is lazy:
                request.user = user
            return user

        lazy = request.user = SimpleLazyObject(read)
