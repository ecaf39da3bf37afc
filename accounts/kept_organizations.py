"""The organizations a user files under, kept per process for a generation.

Every filing reads the requester's organizations with their memberships
(``tickets.services.organizations_for_filing``: which one a ticket belongs to, which
ones the portal form offers). They change when someone edits an organization or a
membership, seldom next to how often customers file. With a cache shared by every
process (Redis) the rows are kept per process, by user, for one *generation* of
``GENERATION_KEY`` (``portal.cache.KeptPerGeneration``), read before the rows are.
The generation is renewed when a change commits by every save or deletion of an
``Organization`` or a ``Membership``, the deletion of a user (an organization's
account manager is set NULL by SQL, without a signal of the organization's) and the
sharing change that writes the organization with ``QuerySet.update``
(``services.set_ticket_sharing``: it calls ``changed``). Nothing is kept while such
a change of the current transaction waits for its commit, when switched off
(``ORGANIZATIONS_CACHE``), without a shared cache or while it is down: read each time
then. What is kept is the rows as the database returns them; callers build new
instances of them at each call."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save

from portal import cache as shared_cache

from .models import Membership, Organization

GENERATION_KEY = "accounts:organizations:generation"

#: At most this many users' rows per process and generation (then read each time).
KEPT_USERS = 1024
_kept = shared_cache.Generation(GENERATION_KEY, "ORGANIZATIONS_CACHE", KEPT_USERS)

#: ``ORGANIZATIONS_CACHE`` (bool) overrides; by default on only when the cache is
#: shared by every process (``portal.cache.shared_or``).
enabled = _kept.enabled

#: An organization or a membership changed: forget the rows in this process now and in
#: every process once the change commits (a signal receiver; ``services`` calls it
#: after a ``QuerySet.update``).
changed = _kept.changed

#: Forget this process's rows (tests).
forget = _kept.forget


def kept(user_id, read):
    """``read()`` (a tuple of plain rows about the user ``user_id``'s organizations),
    kept for the current generation; read each time when nothing may be kept
    (``portal.cache.Generation``)."""
    return _kept.get(read, user_id)


def connect() -> None:
    """The receivers that keep the rows current (``AccountsConfig.ready``)."""
    receivers = (
        (post_save, Organization),
        (post_delete, Organization),
        (post_save, Membership),
        (post_delete, Membership),
        (post_delete, get_user_model()),
    )
    for number, (signal, sender) in enumerate(receivers):
        signal.connect(
            changed, sender=sender, dispatch_uid=f"accounts.kept_organizations.{number}"
        )
