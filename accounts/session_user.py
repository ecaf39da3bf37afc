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

``get_user`` below is Django 5.2's ``django.contrib.auth.get_user`` with the backend's
read replaced, nothing else: the same session key, the same inactive-user refusal
(``user_can_authenticate``), the same session-hash check (a password change ends
other sessions), the same fallback-secret rotation and the same flush. The tests
compare it with Django's on each branch. Locked accounts are ended by
``accounts.middleware.AccountSecurityMiddleware`` after this, as before.
"""

from functools import partial

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    _get_user_session_key,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from portal.sql import KeptStatement

from . import roles


def _user_by_pk(pk):
    # What ModelBackend.get_user reads (the default manager, by primary key), with
    # the role names ``group_names`` would read next.
    return roles.annotate_role_names(
        get_user_model()._default_manager.filter(pk=pk).order_by()
    )


_BY_PK = KeptStatement(_user_by_pk, ("pk",))


def _reads_as_model_backend(backend) -> bool:
    kind = type(backend)
    return (
        kind.get_user is ModelBackend.get_user
        and kind.user_can_authenticate is ModelBackend.user_can_authenticate
    )


def _read_user(backend, user_id):
    """``backend.get_user(user_id)`` for a backend that reads as ``ModelBackend``
    does: the user or None (none with that key, or inactive), with role names."""
    model = get_user_model()
    using = router.db_for_read(model) or DEFAULT_DB_ALIAS
    low, high = connections[using].ops.integer_field_range(
        model._meta.pk.get_internal_type()
    )
    if not isinstance(user_id, int) or not low <= user_id <= high:
        # a key the ORM would not look up: Django's backend reads it its own way
        return backend.get_user(user_id)
    found = _BY_PK.instances(using, pk=user_id)
    if not found:
        return None
    (user,) = roles.remembered(found)
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
    try:
        user_id = _get_user_session_key(request)
    except KeyError:
        return AnonymousUser()
    user = _read_user(backend, user_id)
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
    ``request.user`` (``request.auser`` is Django's)."""

    def process_request(self, request):
        super().process_request(request)  # its checks, and request.auser
        request.user = SimpleLazyObject(partial(_cached_user, request))
