"""What the CRM services raise when the caller may not see (``*NotFound``, a
``DoesNotExist``: 404, like a missing row) or may see but not change
(``PermissionDenied``: 403) an interaction or task."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied

from .models import Interaction, Task


class TaskNotFound(Task.DoesNotExist):
    pass


class InteractionNotFound(Interaction.DoesNotExist):
    pass


class PermissionDenied(DjangoPermissionDenied):
    pass
