"""The sidebar's decisions translated only for a refusal (W-6): ``why_not``,
``why_not_each``, ``can_each``, ``status_control``, ``allowed_moves`` and
``why_not_move`` answer exactly what the former rule answered (copied below as it
was at 17da60f, every message translated eagerly) for every user × ticket × action
and every status move, in each language: the same refusals, kinds, messages, codes
and types, and the same allowed answers (their denied twins).

Over 400 lines on purpose: the former rule is kept here whole (~150 lines), as the
oracle the tests compare with."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import roles
from accounts.services import setup_member
from tickets import actions, lifecycle, permissions, services
from tickets.desk.workspace import SIDEBAR_ACTIONS
from tickets.errors import TicketErrorCode
from tickets.models import Status, Ticket
from tickets.permissions import FORBIDDEN, INVALID, STATUS_INTENTS, Denial

from .factories import TicketFactory, UserFactory, make_agent, make_customer

pytestmark = pytest.mark.django_db


# --- the former rule (17da60f), verbatim but for the names ---------------------------


def _former_need(condition, message, kind=FORBIDDEN, code=None):
    return None if condition else Denial(kind, message, code)


class _FormerFacts(permissions._Facts):
    __slots__ = ()

    def status_control(self) -> tuple[tuple[str, str] | None, list[str]]:
        """``why_not("change_status")`` and the moves (``allowed_moves``), from one
        evaluation of the parties."""
        who = permissions.parties(self.user, self.ticket)
        moves = _former_moves(self.ticket, who)
        return (
            _former_need(bool(who), _("You cannot change the status of this ticket."))
            or _former_need(
                bool(moves),
                _("This ticket's status cannot change any more."),
                INVALID,
                TicketErrorCode.STATUS_LOCKED,
            )
        ), moves

    def why_not(self, action: str) -> tuple[str, str] | None:
        user, ticket, perms = self.user, self.ticket, self.perms
        supervisor, viewer, staff = self.supervisor, self.viewer, self.staff
        status, requester, final = self.status, self.requester, self.final
        need = _former_need
        if action in ("view", "download_attachment"):
            return None
        if action == "view_internal":
            return need(
                supervisor or viewer or "view_internal_notes" in perms,
                _("Internal notes are for the support team."),
            )
        if action == "reply":
            return need(
                supervisor or "comment_ticket" in perms,
                _("You cannot reply to this ticket."),
            ) or need(
                not final,
                _("This ticket is finished; replies are no longer accepted."),
                INVALID,
                TicketErrorCode.TICKET_FINISHED,
            )
        if action == "add_note":
            return need(
                supervisor or "add_internal_note" in perms,
                _("Only the support team can add internal notes."),
            )
        if action == "assign":
            return need(
                supervisor or "assign_ticket" in perms,
                _("You cannot assign this ticket."),
            ) or need(
                not final,
                _("A finished ticket cannot be reassigned."),
                INVALID,
                TicketErrorCode.TICKET_FINISHED,
            )
        if action == "change_status":
            # Anyone who is a lifecycle party may use a status control when the table
            # leaves them a move (a requester: close or withdraw, …); which move is
            # ``why_not_move``'s question.
            return self.status_control()[0]
        if action in ("change_priority", "move_queue", "set_tags", "log_time"):
            return need(staff, _("Only the support team can do this."))
        if action == "merge":
            return need(staff, _("Only the support team can merge tickets.")) or need(
                not final and ticket.merged_into_id is None,
                _("A finished or merged ticket cannot be merged."),
                INVALID,
                TicketErrorCode.NOT_MERGEABLE,
            )
        if action == "watch":
            return need(
                staff or not roles.is_staff_member(user),
                _("Read-only accounts cannot follow tickets."),
            )
        if action == "rate":
            return (
                need(
                    requester and "rate_ticket" in perms,
                    _("Only the requester can rate a ticket."),
                )
                or need(
                    status in (Status.RESOLVED, Status.CLOSED),
                    _("A ticket can be rated once it is resolved."),
                    INVALID,
                    TicketErrorCode.NOT_RESOLVED,
                )
                or need(
                    ticket.satisfaction_rating is None,
                    _("This ticket has already been rated."),
                    INVALID,
                    TicketErrorCode.ALREADY_RATED,
                )
            )
        if action in STATUS_INTENTS:
            # The portal's buttons: who may press one, then the one status-change rule.
            target, who_may, message = STATUS_INTENTS[action]
            if action == "reopen":
                who = permissions.parties(user, ticket)
            else:
                who = {lifecycle.REQUESTER} if requester else set()
                if action == "close" and staff:
                    who.add(lifecycle.STAFF)
            return need(bool(who), str(who_may)) or need(
                (action != "reopen" or status in (Status.RESOLVED, Status.CLOSED))
                and _former_move_denial(status, target, who) is None,
                str(message),
                INVALID,
                TicketErrorCode.TRANSITION_NOT_ALLOWED,
            )
        raise AssertionError(action)


def _former_move_denial(
    current: str, new: str, who: set[str]
) -> tuple[str, str] | None:
    """The lifecycle part of the one status-change rule (see ``why_not_move``)."""
    old_label, new_label = Status(current).label, Status(new).label
    if new == current:
        return Denial(
            INVALID,
            _("The ticket is already %(status)s.") % {"status": old_label},
            TicketErrorCode.ALREADY_IN_STATUS,
        )
    if not who:
        return FORBIDDEN, _("You cannot change the status of this ticket.")
    if not lifecycle.is_allowed(current, new, who):
        if lifecycle.TRANSITIONS.get(current, {}).get(new):
            return (
                FORBIDDEN,
                _("You cannot move this ticket from %(old)s to %(new)s.")
                % {"old": old_label, "new": new_label},
            )
        return Denial(
            INVALID,
            _("A ticket cannot go from %(old)s to %(new)s.")
            % {"old": old_label, "new": new_label},
            TicketErrorCode.TRANSITION_NOT_ALLOWED,
        )
    return None


def _former_moves(ticket: Ticket, who: set[str]) -> list[str]:
    return [
        status
        for status in lifecycle.TRANSITIONS.get(ticket.status, {})
        if _former_move_denial(ticket.status, status, who) is None
    ]


def _former_why_not(user, action, ticket):
    facts = _FormerFacts.of(user, ticket)
    return _FormerFacts.missing() if facts is None else facts.why_not(action)


def _former_status_control(user, ticket):
    facts = _FormerFacts.of(user, ticket)
    return (_FormerFacts.missing(), []) if facts is None else facts.status_control()


def _former_allowed_moves(user, ticket):
    if _former_why_not(user, "view", ticket) is not None:
        return []
    return _former_moves(ticket, permissions.parties(user, ticket))


def _former_why_not_move(user, ticket, new_status):
    denial = _former_why_not(user, "view", ticket)
    if denial is not None:
        return denial
    return _former_move_denial(
        ticket.status, new_status, permissions.parties(user, ticket)
    )


# --- users × tickets -----------------------------------------------------------------


@pytest.fixture
def people(alice, bob, agent, other_agent, supervisor, viewer, other_queue, acme):
    insider = make_agent(other_queue, email="insider@example.com")
    setup_member(acme, insider)
    gone = make_agent(email="gone@example.com")
    gone.is_active = False
    gone.save()
    root = UserFactory(email="root@example.com", is_superuser=True, is_staff=True)
    gone_root = UserFactory(email="goneroot@example.com", is_superuser=True)
    gone_root.is_active = False
    gone_root.save()
    return {
        "anonymous": AnonymousUser(),
        "requester": alice,
        "colleague": bob,
        "stranger": make_customer(email="stranger@example.com"),
        "queue_agent": agent,
        "other_queue_agent": other_agent,
        "sharing_agent": insider,
        "supervisor": supervisor,
        "viewer": viewer,
        "superuser": root,
        "inactive_agent": gone,
        "inactive_superuser": gone_root,
    }


@pytest.fixture
def tickets(ticket, alice, bob, agent, queue, acme):
    """alice's ticket in every status, a rated and an unrated resolved one, a merged
    one, bob's (shared with acme) and a lone customer's. There is no spam status:
    rejected and withdrawn are the ends a ticket is thrown out by."""
    made = {"new": ticket}
    for status in Status.values:
        if status == Status.NEW:
            continue
        one = TicketFactory(requester=alice, queue=queue, organization=acme)
        Ticket.objects.filter(pk=one.pk).update(status=status)
        made[status] = one
    rated = TicketFactory(requester=alice, queue=queue, organization=acme)
    Ticket.objects.filter(pk=rated.pk).update(
        status=Status.RESOLVED, satisfaction_rating=4
    )
    made["rated"] = rated
    merged = TicketFactory(requester=alice, queue=queue, organization=acme)
    services.merge(agent, merged, ticket)
    made["merged"] = merged
    made["bobs"] = TicketFactory(requester=bob, queue=queue, organization=acme)
    made["lone"] = TicketFactory(
        requester=make_customer(email="lone@example.com"), queue=queue
    )
    return {name: Ticket.objects.get(pk=one.pk) for name, one in made.items()}


def _same(got, expected):
    """Equal answers: None, or the same refusal (kind, message, code, type; the
    message a ``str``, not a lazy one)."""
    if expected is None:
        return got is None
    return (
        got == expected
        and type(got) is type(expected)
        and type(got[1]) is type(expected[1]) is str
        and getattr(got, "code", None) == getattr(expected, "code", None)
    )


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_every_decision_is_the_former_rules(people, tickets, language):
    refused, allowed = set(), set()
    with translation.override(language):
        for who, user in people.items():
            for name, ticket in tickets.items():
                where = (who, name)
                former = {
                    a: _former_why_not(user, a, ticket) for a in permissions.ACTIONS
                }
                for action, expected in former.items():
                    got = permissions.why_not(user, action, ticket)
                    assert _same(got, expected), (*where, action, got, expected)
                    (allowed if expected is None else refused).add((who, action))
                each = permissions.why_not_each(user, permissions.ACTIONS, ticket)
                assert all(_same(each[a], former[a]) for a in former), where
                assert permissions.can_each(user, permissions.ACTIONS, ticket) == {
                    a: former[a] is None for a in permissions.ACTIONS
                }, where
                assert permissions.can_each(user, SIDEBAR_ACTIONS, ticket) == {
                    a: former[a] is None for a in SIDEBAR_ACTIONS
                }, where
                for action in permissions.ACTIONS:
                    yes = permissions.can(user, action, ticket)
                    assert yes is (former[action] is None), (*where, action)
                denial, moves = permissions.status_control(user, ticket)
                old_denial, old_moves = _former_status_control(user, ticket)
                assert _same(denial, old_denial) and moves == old_moves, where
                assert actions.CHANGE_STATUS.control(user, ticket) == (
                    old_denial is None,
                    old_moves,
                ), where
                assert permissions.allowed_moves(user, ticket) == _former_allowed_moves(
                    user, ticket
                ), where
                for status in Status.values:
                    got = permissions.why_not_move(user, ticket, status)
                    expected = _former_why_not_move(user, ticket, status)
                    assert _same(got, expected), (*where, status, got, expected)
    # both sides of each sidebar question were met
    for action in (*SIDEBAR_ACTIONS, "change_status", "rate", "close", "reopen"):
        assert any(a == action for _who, a in allowed), action
        assert any(a == action for _who, a in refused), action


def test_every_move_denial_is_the_former_rules():
    """The lifecycle part alone, for every pair of statuses and every set of
    parties (the moves a status control offers are exactly those it allows)."""
    party_sets = [
        set(),
        {lifecycle.STAFF},
        {lifecycle.REQUESTER},
        {lifecycle.STAFF, lifecycle.SUPERVISOR},
        {lifecycle.STAFF, lifecycle.REQUESTER},
        {lifecycle.STAFF, lifecycle.REQUESTER, lifecycle.SUPERVISOR},
    ]
    for language in ("en", "ru"):
        with translation.override(language):
            for current in Status.values:
                for new in Status.values:
                    for who in party_sets:
                        expected = _former_move_denial(current, new, who)
                        got = permissions._move_denial(current, new, who)
                        assert _same(got, expected), (current, new, who)
                        assert permissions._may_move(current, new, who) is (
                            expected is None
                        )
    with pytest.raises(ValueError):
        permissions._move_denial(Status.OPEN, "spam", {lifecycle.STAFF})


def _translations(decide):
    """How many messages ``decide()`` translates (calls of Django's ``gettext``)."""
    import sys

    seen = []

    def tracer(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "gettext":
            if frame.f_code.co_filename.endswith("trans_real.py"):
                seen.append(frame)

    sys.setprofile(tracer)
    try:
        decide()
    finally:
        sys.setprofile(None)
    return len(seen)


def test_allowed_answers_translate_nothing_and_refusals_their_message(people, tickets):
    """The sidebar of the queue's agent on an open ticket: every answer yes, no
    message translated; its denied twins (a closed ticket, a viewer, another
    queue's agent) refused with the translated message."""
    agent, viewer = people["queue_agent"], people["viewer"]
    open_one, closed = tickets[Status.OPEN], tickets[Status.CLOSED]
    with translation.override("ru"):
        assert permissions.can_each(agent, SIDEBAR_ACTIONS, open_one) == dict.fromkeys(
            SIDEBAR_ACTIONS, True
        )
        assert (
            _translations(
                lambda: permissions.can_each(agent, SIDEBAR_ACTIONS, open_one)
            )
            == 0
        )
        assert _translations(lambda: permissions.status_control(agent, open_one)) == 0
        assert permissions.status_control(agent, open_one) == (
            None,
            [
                Status.IN_PROGRESS,
                Status.WAITING_ON_CUSTOMER,
                Status.ON_HOLD,
                Status.RESOLVED,
                Status.REJECTED,
            ],
        )
        # denied twins: a yes-or-no answer translates nothing either way
        assert permissions.can_each(agent, SIDEBAR_ACTIONS, closed)["reply"] is False
        assert (
            _translations(lambda: permissions.can_each(agent, SIDEBAR_ACTIONS, closed))
            == 0
        )
        assert _translations(lambda: permissions.can(viewer, "reply", open_one)) == 0
        assert not permissions.can(viewer, "reply", open_one)
        assert not permissions.can(people["stranger"], "view", open_one)
        reply = permissions.why_not(agent, "reply", closed)
        assert reply == (
            INVALID,
            _("This ticket is finished; replies are no longer accepted."),
        )
        assert reply.code == TicketErrorCode.TICKET_FINISHED
        assert reply[1] != "This ticket is finished; replies are no longer accepted."
        assert permissions.status_control(agent, closed) == (
            (INVALID, _("This ticket's status cannot change any more.")),
            [],
        )
        assert permissions.status_control(people["supervisor"], closed) == (
            None,
            [Status.OPEN],
        )
        assert permissions.why_not(viewer, "reply", open_one) == (
            FORBIDDEN,
            _("You cannot reply to this ticket."),
        )
        assert permissions.why_not(viewer, "view_internal", open_one) is None
        assert permissions.can_each(
            people["other_queue_agent"], SIDEBAR_ACTIONS, open_one
        ) == dict.fromkeys(SIDEBAR_ACTIONS, False)
        assert (
            permissions.why_not(people["other_queue_agent"], "reply", open_one)
            == permissions._Facts.missing()
        )
        assert permissions.allowed_moves(people["requester"], open_one) == [
            Status.CLOSED,
            Status.WITHDRAWN,
        ]
        assert permissions.why_not_move(
            people["requester"], open_one, Status.RESOLVED
        ) == (
            FORBIDDEN,
            _("You cannot move this ticket from %(old)s to %(new)s.")
            % {"old": Status.OPEN.label, "new": Status.RESOLVED.label},
        )
        assert (
            permissions.why_not(people["inactive_superuser"], "view", open_one)
            == permissions._Facts.missing()
        )
