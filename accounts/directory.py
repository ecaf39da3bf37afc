"""Which accounts belong to the directory (LDAP): the one rule the account adapter (no
password-reset mail) and the LDAP set-password form (refused) both ask.

Kept apart from ``accounts.ldap`` so that callers need not import python-ldap.
"""

from django.conf import settings


def ldap_enabled() -> bool:
    return bool(getattr(settings, "AUTH_LDAP_SERVER_URI", ""))


def is_directory_account(user) -> bool:
    """With LDAP on, an account without a local password is a directory account: its
    password lives in the directory, so it never gets a local one (which would outlive
    the directory entry)."""
    return ldap_enabled() and not user.has_usable_password()
