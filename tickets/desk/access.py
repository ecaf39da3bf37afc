"""Who may open the desk at all. Which tickets they see is ``tickets.permissions``."""

from .. import permissions


def is_desk_user(user) -> bool:
    """Agents, supervisors, viewers and administrators use the Helpdesk menu (the
    support team, ``permissions.is_support_team``)."""
    return permissions.is_support_team(user)


def may_act(user) -> bool:
    """Viewers only look: the desk hides its forms from them (the services refuse
    anyway)."""
    return is_desk_user(user) and not (
        permissions.is_viewer(user) and not permissions.is_supervisor(user)
    )


def my_queues(user):
    """The queues ``user`` works (``permissions.worked_queues``)."""
    return permissions.worked_queues(user)


def my_queue_list(user) -> list:
    """``list(my_queues(user))``, kept by the policy (``permissions.worked_queue_list``)."""
    return permissions.worked_queue_list(user)
