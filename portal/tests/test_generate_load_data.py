"""The load-data generator writes the rows the services would write."""

from collections import defaultdict

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import transaction

from accounts import roles
from accounts.models import Membership, Organization, TicketSharing, User
from accounts.services import organization_group_name
from portal.loaddata import Sizes, generate
from portal.loaddata.people import PASSWORD
from portal.loaddata.tickets import tickets_available


def _sizes(**overrides):
    values = {
        "articles": 0,
        "tickets": 0,
        "organizations": 4,
        "customers": 30,
        "agents": 3,
        "queues": 2,
        "seed": 7,
    }
    return Sizes(**(values | overrides))


@pytest.mark.django_db
def test_people_match_what_the_accounts_services_write():
    result = generate(_sizes(), progress=False)

    assert Organization.objects.count() == 4
    for org in Organization.objects.select_related("group"):
        assert org.group.name == organization_group_name(org)
        members = set(org.memberships.values_list("user_id", flat=True))
        assert set(org.group.user_set.values_list("id", flat=True)) == members
    assert Organization.objects.get(pk=result.people.big_org.id).ticket_sharing == (
        TicketSharing.READ_WRITE
    )
    customers = User.objects.filter(pk__in=result.people.customers)
    assert customers.count() == 30
    assert set(
        Group.objects.get(name=roles.CUSTOMERS).user_set.values_list("id", flat=True)
    ) == set(result.people.customers)
    assert set(
        Group.objects.get(name=roles.AGENTS).user_set.values_list("id", flat=True)
    ) == set(result.people.agents)
    assert User.objects.filter(pk__in=result.people.agents, is_staff=True).count() == 3
    assert not Membership.objects.filter(user_id__in=result.people.agents).exists()
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == 33


@pytest.mark.django_db
def test_generated_users_can_sign_in_with_the_documented_password(client):
    result = generate(_sizes(), progress=False)
    user = User.objects.get(pk=result.people.customers[0])

    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_ids_continue_after_existing_rows_and_sequences_follow(make_user):
    existing = make_user("someone@example.com")

    result = generate(_sizes(), progress=False)
    later = make_user("later@example.com")

    assert min(result.people.customers) > existing.pk
    assert later.pk > max(result.people.agents)


@pytest.mark.django_db
def test_command_refuses_to_generate_twice_and_writes_nothing_more():
    call_command(
        "generate_load_data",
        "--organizations=2",
        "--customers=5",
        "--agents=1",
        "--tickets=0",
        "--articles=0",
        "--no-progress",
    )
    users = User.objects.count()

    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "generate_load_data",
            "--organizations=2",
            "--customers=5",
            "--agents=1",
            "--tickets=0",
            "--articles=0",
            "--no-progress",
        )

    assert User.objects.count() == users


@pytest.mark.django_db
def test_command_rejects_an_empty_population():
    with pytest.raises(CommandError, match="At least one"):
        call_command("generate_load_data", "--organizations=0", "--no-progress")

    assert not User.objects.exists()


# --- tickets ----------------------------------------------------------------------------

needs_tickets = pytest.mark.skipif(
    not tickets_available(), reason="the tickets app is not merged yet"
)


def _grant_rows(ticket_ids):
    from tickets.models import TicketGroupObjectPermission, TicketUserObjectPermission

    users = defaultdict(set)
    for t, u, p in TicketUserObjectPermission.objects.filter(
        content_object_id__in=ticket_ids
    ).values_list("content_object_id", "user_id", "permission_id"):
        users[t].add((u, p))
    groups = defaultdict(set)
    for t, g, p in TicketGroupObjectPermission.objects.filter(
        content_object_id__in=ticket_ids
    ).values_list("content_object_id", "group_id", "permission_id"):
        groups[t].add((g, p))
    return users, groups


@pytest.fixture
def generated(db):
    return generate(
        _sizes(tickets=400, organizations=5, customers=40, agents=4, queues=2),
        progress=False,
    )


@needs_tickets
def test_every_generated_ticket_holds_exactly_the_grants_the_services_compute(
    generated,
):
    from tickets import grants
    from tickets.models import Ticket

    ids = grants.permission_ids()
    tickets = list(Ticket.objects.select_related("queue", "organization"))
    users, groups = _grant_rows([t.pk for t in tickets])

    assert len(tickets) == 400
    for ticket in tickets:
        assert users[ticket.pk] == grants.desired_user_grants(ticket, ids), ticket
        assert groups[ticket.pk] == grants.desired_group_grants(ticket, ids), ticket


@needs_tickets
def test_syncing_every_generated_ticket_through_the_service_changes_nothing(generated):
    from tickets import grants
    from tickets.models import (
        Ticket,
        TicketGroupObjectPermission,
        TicketUserObjectPermission,
    )

    before_users = set(TicketUserObjectPermission.objects.values_list("pk", flat=True))
    before_groups = set(
        TicketGroupObjectPermission.objects.values_list("pk", flat=True)
    )

    for ticket in Ticket.objects.select_related("queue", "organization"):
        grants.sync_ticket_permissions(ticket)

    assert set(TicketUserObjectPermission.objects.values_list("pk", flat=True)) == (
        before_users
    )
    assert set(TicketGroupObjectPermission.objects.values_list("pk", flat=True)) == (
        before_groups
    )


@needs_tickets
def test_each_user_sees_what_the_policy_promises(generated):
    from tickets.models import Queue, Ticket
    from tickets.permissions import visible_tickets

    people = generated.people
    queue_of_group = dict(Queue.objects.values_list("agent_group_id", "pk"))
    sharing = {org.id: org.sharing for org in people.organizations}
    rows = list(
        Ticket.objects.values_list(
            "pk", "requester_id", "assignee_id", "queue_id", "organization_id"
        )
    )
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert {"new", "open", "closed", "resolved"} <= statuses

    for user in User.objects.filter(pk__in=people.customers + people.agents):
        user_orgs = set(user.memberships.values_list("organization_id", flat=True))
        user_queues = {
            queue_of_group[g]
            for g in user.groups.values_list("id", flat=True)
            if g in queue_of_group
        }
        expected = {
            pk
            for pk, requester, assignee, queue, org in rows
            if user.pk in (requester, assignee)
            or queue in user_queues
            or (org in user_orgs and sharing[org] != TicketSharing.NONE)
        }
        assert set(visible_tickets(user).values_list("pk", flat=True)) == expected


@needs_tickets
def test_generated_ticket_grants_equal_those_of_a_ticket_made_by_the_services(
    generated,
):
    from tickets import services
    from tickets.models import Ticket

    for generated_ticket in Ticket.objects.filter(
        assignee__isnull=False
    ).select_related("requester", "organization", "queue", "assignee")[:20]:
        made = services.create_ticket(
            generated_ticket.requester,
            subject="Same shape",
            description="Made by the services for comparison.",
            queue=generated_ticket.queue,
            organization=generated_ticket.organization,
        )
        services.self_assign(generated_ticket.assignee, made)
        users, groups = _grant_rows([generated_ticket.pk, made.pk])

        assert users[made.pk] == users[generated_ticket.pk]
        assert groups[made.pk] == groups[generated_ticket.pk]


@needs_tickets
def test_generated_rows_are_consistent_and_the_next_reference_follows(generated):
    from tickets import services
    from tickets.models import Attachment, Comment, Ticket, TicketEvent

    assert Comment.objects.count() == generated.tickets.comments
    assert Attachment.objects.count() == generated.tickets.attachments
    assert TicketEvent.objects.count() == generated.tickets.events
    assert not Comment.objects.filter(ticket__status="new").exists()
    assert not Ticket.objects.filter(status="new", assignee__isnull=False).exists()
    assert Ticket.objects.filter(status="closed", closed_at__isnull=True).count() == 0
    assert TicketEvent.objects.filter(kind="created").count() == 400
    highest = Ticket.objects.order_by("-reference").values_list("reference", flat=True)[
        0
    ]

    with transaction.atomic():
        reference = services.next_reference()

    assert int(reference.split("-")[1]) == int(highest.split("-")[1]) + 1


@needs_tickets
def test_generated_search_documents_are_those_the_comment_trigger_writes(generated):
    """PostgreSQL: the comments are copied with the search trigger switched off and the
    documents rebuilt after; they must equal what the trigger's own function writes, and
    the trigger must be on again for the next comment."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the search documents are PostgreSQL's")
    snapshot = (
        "SELECT s.ticket_id, s.config::text, s.public_doc::text, s.staff_doc::text, "
        "m.public_terms::text, m.notes_terms::text, t.search_terms::text "
        "FROM tickets_ticket t JOIN tickets_ticket_search s ON s.ticket_id = t.id "
        "JOIN tickets_ticket_match m ON m.ticket_id = t.id ORDER BY 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(snapshot)
        generated_rows = cursor.fetchall()
        cursor.execute(
            "SELECT tickets_search_refresh(ARRAY(SELECT id FROM tickets_ticket))"
        )
        cursor.execute(snapshot)
        refreshed_rows = cursor.fetchall()
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger "
            "WHERE tgname = 'tickets_search_comment_insert'"
        )
        enabled = cursor.fetchone()[0]

    assert len(generated_rows) == 400
    assert generated_rows == refreshed_rows
    # Some comment words reached the documents (not only subjects and descriptions).
    assert any(
        row[3] != row[2] for row in generated_rows
    )  # notes in the staff document
    assert enabled == "O"


@pytest.mark.django_db(transaction=True)
def test_tables_filled_by_triggers_are_vacuumed_with_the_written_ones():
    """PostgreSQL: the search tables the triggers rebuilt get the ``VACUUM (ANALYZE)``
    autovacuum would give them (their visibility maps make the ranking's fetches cheap);
    a table that does not exist is passed over."""
    from django.db import connection

    from portal.loaddata.writer import BulkWriter, vacuum_analyze

    if connection.vendor != "postgresql":
        pytest.skip("VACUUM is PostgreSQL's")
    counts = (
        "SELECT relname, vacuum_count FROM pg_stat_user_tables "
        "WHERE relname IN ('tickets_ticket_search', 'tickets_ticket_match')"
    )

    def vacuumed():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(counts)
            return dict(cursor.fetchall())

    before = vacuumed()
    vacuum_analyze(
        BulkWriter(),
        also=("tickets_ticket_search", "tickets_ticket_match", "no_such_table"),
    )
    after = vacuumed()
    assert set(after) == {"tickets_ticket_search", "tickets_ticket_match"}
    assert {name: after[name] - before[name] for name in after} == {
        "tickets_ticket_search": 1,
        "tickets_ticket_match": 1,
    }


# --- knowledge base ---------------------------------------------------------------------


@pytest.mark.django_db
def test_articles_are_live_pages_in_a_sound_tree_and_found_by_search():
    from wagtail.models import Page

    from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage
    from kb.queries import search_articles

    result = generate(_sizes(articles=45), progress=False)

    articles = ArticlePage.objects.filter(pk__in=result.article_ids)
    assert articles.count() == 45
    assert articles.live().count() == 45
    kb_page = KnowledgeBasePage.objects.get()
    assert CategoryPage.objects.child_of(kb_page).count() == 2
    assert all(a.url.startswith("/kb/load-") for a in articles)
    assert Page.find_problems() == ([], [], [], [], [])
    assert {a.audience for a in articles} <= {"public", "customers", "agents"}
    assert len(search_articles(None, "password")) >= 1


@needs_tickets
def test_generated_tickets_and_grants_are_in_the_kept_numbers(generated):
    """The triggers of tickets 0026 count the generator's COPY too (bench FINDINGS
    G-8): every agent's kept count is their exact count."""
    from tickets.permissions import count_visible, visible_tickets
    from tickets.tests.test_visibility_tallies import assert_exact

    assert_exact(*User.objects.filter(pk__in=generated.people.agents))
    agent = User.objects.get(pk=generated.people.agents[0])
    assert count_visible(agent) == visible_tickets(agent).count() > 0
