"""LDAP/Active Directory settings read from the environment, for
``portal/settings/base.py`` (the backend is ``accounts.ldap``). No LDAP_SERVER_URI: LDAP is off and ``ldap_settings``
returns nothing, so the backend is not installed and python-ldap is not imported."""

import os
from collections.abc import Mapping

# environment variable -> the role (accounts.roles; settings import no app) its
# group DN grants
ROLE_GROUP_VARIABLES = {
    "LDAP_AGENTS_GROUP": "Agents",
    "LDAP_SUPERVISORS_GROUP": "Supervisors",
    "LDAP_VIEWERS_GROUP": "Viewers",
    "LDAP_EDITORS_GROUP": "Editors",
}
BACKEND = "accounts.ldap.LDAPBackend"


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def ldap_settings(environ: Mapping[str, str] | None = None) -> dict:
    """The Django settings (``AUTH_LDAP_*`` for django-auth-ldap, ``LDAP_*`` for
    ``accounts.ldap``) described by ``environ``; empty when LDAP is off."""
    environ = os.environ if environ is None else environ

    def get(name: str, default: str = "") -> str:
        return environ.get(name, default).strip()

    uri = get("LDAP_SERVER_URI")
    if not uri:
        return {}
    import ldap
    from django_auth_ldap import config

    group_types = {
        "groupOfNames": config.GroupOfNamesType,
        "groupOfUniqueNames": config.GroupOfUniqueNamesType,
        "posixGroup": config.PosixGroupType,
        "activeDirectory": config.NestedActiveDirectoryGroupType,
    }
    group_type = get("LDAP_GROUP_TYPE", "groupOfNames")
    if group_type not in group_types:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"LDAP_GROUP_TYPE={group_type!r}: use one of {', '.join(group_types)}"
        )
    timeout = int(get("LDAP_TIMEOUT", "5"))
    user_base = get("LDAP_USER_SEARCH_BASE")
    group_base = get("LDAP_GROUP_SEARCH_BASE", user_base)
    default_group_filter = {
        "groupOfNames": "(objectClass=groupOfNames)",
        "groupOfUniqueNames": "(objectClass=groupOfUniqueNames)",
        "posixGroup": "(objectClass=posixGroup)",
        "activeDirectory": "(objectClass=group)",
    }[group_type]
    return {
        "AUTH_LDAP_SERVER_URI": uri,
        "AUTH_LDAP_BIND_DN": get("LDAP_BIND_DN"),
        "AUTH_LDAP_BIND_PASSWORD": environ.get("LDAP_BIND_PASSWORD", ""),
        "AUTH_LDAP_START_TLS": _flag(get("LDAP_START_TLS", "false")),
        "AUTH_LDAP_USER_SEARCH": config.LDAPSearch(
            user_base, ldap.SCOPE_SUBTREE, get("LDAP_USER_FILTER", "(mail=%(user)s)")
        ),
        # the email comes from LDAP_EMAIL_ATTR (accounts.ldap), not from this map
        "AUTH_LDAP_USER_ATTR_MAP": {
            "first_name": get("LDAP_FIRST_NAME_ATTR", "givenName"),
            "last_name": get("LDAP_LAST_NAME_ATTR", "sn"),
        },
        "AUTH_LDAP_GROUP_SEARCH": config.LDAPSearch(
            group_base,
            ldap.SCOPE_SUBTREE,
            get("LDAP_GROUP_FILTER", default_group_filter),
        ),
        "AUTH_LDAP_GROUP_TYPE": group_types[group_type](),
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_CONNECTION_OPTIONS": {
            ldap.OPT_NETWORK_TIMEOUT: timeout,
            ldap.OPT_TIMEOUT: timeout,
            ldap.OPT_REFERRALS: 0,  # Active Directory's referrals need another bind
        },
        "LDAP_EMAIL_ATTR": get("LDAP_EMAIL_ATTR", "mail"),
        "LDAP_ROLE_GROUPS": {
            role: get(variable)
            for variable, role in ROLE_GROUP_VARIABLES.items()
            if get(variable)
        },
        "LDAP_ORGANIZATION_ATTR": get("LDAP_ORGANIZATION_ATTR"),
        "LDAP_RETRY_AFTER": int(get("LDAP_RETRY_AFTER", "60")),
    }


# guardian's, and ours with the queue group's rule (tickets.backends)
OBJECT_PERMISSION_BACKENDS = (
    "guardian.backends.ObjectPermissionBackend",
    "tickets.backends.ObjectPermissionBackend",
)


def with_ldap_backend(backends: list[str]) -> list[str]:
    """The LDAP backend after the local ones (a local password is tried first, so
    local accounts sign in whatever the directory's state)."""
    backends = [b for b in backends if b != BACKEND]
    position = next(
        (i for i, b in enumerate(backends) if b in OBJECT_PERMISSION_BACKENDS),
        len(backends),
    )
    return [*backends[:position], BACKEND, *backends[position:]]


def install_ldap(namespace: dict, environ: Mapping[str, str] | None = None) -> bool:
    """Add LDAP to a settings module's ``namespace`` when ``environ`` asks for it: the
    settings above, the backend, and allauth's "set a password" form refused to
    directory accounts (their password stays in the directory; reset links are
    refused in ``accounts.adapter``)."""
    values = ldap_settings(environ)
    if not values:
        return False
    namespace.update(values)
    namespace["AUTHENTICATION_BACKENDS"] = with_ldap_backend(
        namespace["AUTHENTICATION_BACKENDS"]
    )
    namespace["ACCOUNT_FORMS"] = {
        **namespace.get("ACCOUNT_FORMS", {}),
        "set_password": "accounts.ldap.DirectoryPasswordSetForm",
    }
    return True
