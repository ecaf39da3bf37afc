"""Tickets' reactions to other domains' signals. Connected in ``TicketsConfig.ready``,
so reading tickets shows what it listens to; the sending apps never import tickets.

The signals are sent inside the sender's transaction: what a receiver writes commits or
rolls back with the change that caused it.
"""

from accounts import signals as account_signals
from accounts.models import Organization

from . import grants


def on_sharing_changed(sender, organization_id, old, new, **kwargs):
    """An organization's ``ticket_sharing`` changed: replace its group's grants on all
    its tickets (members gain or lose access to each other's tickets)."""
    organization = Organization.objects.get(pk=organization_id)
    grants.regrant_organization(organization)


def connect():
    account_signals.sharing_changed.connect(
        on_sharing_changed, dispatch_uid="tickets.sharing_changed"
    )
