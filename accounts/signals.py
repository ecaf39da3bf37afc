"""Domain signals of accounts. Other apps (tickets) subscribe in their own ``ready()``;
accounts never imports them.

Both are sent synchronously inside the service's transaction, after the change and its
audit event are written, so a receiver's writes (moving ticket grants) commit or roll
back with the change. Arguments are plain data (ids and choice values), never model
instances, so receivers cannot depend on accounts' objects being in a given state.
"""

from django.dispatch import Signal

# organization_id, user_id, old_role, new_role (a ``Membership.Role`` value, or None
# when the user was not / is no longer a member), actor_id (None for the system).
membership_changed = Signal()

# organization_id, old, new (``TicketSharing`` values), actor_id.
sharing_changed = Signal()
