"""Demo CRM data (``manage.py load_demo``, after accounts and tickets): the two
organizations' details and contacts' job titles, 32 interactions and 24 follow-up
tasks spread over the last weeks (some overdue, some done, some ahead), and a
follow-up task and a logged call on two open tickets of each organization. Idempotent:
rows are found by their subject or title and organization."""

from datetime import timedelta

from django.utils import timezone

from portal.demo import DemoContext
from tickets.models import Ticket

from . import permissions, services
from .models import Interaction, Task, TaskStatus

DETAILS = {
    "acme": {
        "website": "https://acme.example",
        "industry": "Manufacturing",
        "address": "1 Rocket Road\nSpringfield",
        "phone": "+1 555 0100",
        "notes": "Enterprise plan since 2024; renewal every March.",
    },
    "globex": {
        "website": "https://globex.example",
        "industry": "Energy",
        "address": "42 Cypress Creek\nHammock District",
        "phone": "+1 555 0199",
        "notes": "Pilot on the Standard plan; wants SSO.",
    },
}
MANAGERS = {"acme": "agent@example.com", "globex": "billing.agent@example.com"}
CONTACTS = {
    "alice@acme.example": ("Head of IT", "+1 555 0101"),
    "bob@acme.example": ("Office manager", "+1 555 0102"),
    "carol@globex.example": ("Procurement lead", "+1 555 0191"),
}
KINDS = ["call", "meeting", "email", "note"]
TOPICS = [
    "Quarterly review",
    "Renewal discussion",
    "Onboarding check-in",
    "Feature request follow-up",
    "Invoice question",
    "Outage debrief",
    "Training session",
    "Security questionnaire",
]
TASKS = [
    "Send the renewal quote",
    "Book the quarterly review",
    "Follow up on the invoice",
    "Share the SSO setup guide",
    "Check in after the outage",
    "Prepare the training slides",
]


def _details(organizations, users, supervisor) -> None:
    for slug, details in DETAILS.items():
        org = organizations[slug]
        manager = users[MANAGERS[slug]]
        if (
            any(getattr(org, k) != v for k, v in details.items())
            or org.account_manager_id != manager.pk
        ):
            services.update_organization_details(
                supervisor, org, account_manager=manager, **details
            )
    for email, (job_title, phone) in CONTACTS.items():
        user = users[email]
        if (user.job_title, user.phone) != (job_title, phone):
            user.job_title, user.phone = job_title, phone
            user.save(update_fields=["job_title", "phone"])


def _contact(users, slug, n):
    people = [e for e in CONTACTS if e.endswith(f"@{slug}.example")]
    return users[people[n % len(people)]]


def _interactions(organizations, users, now) -> int:
    made = 0
    for n in range(32):
        slug = "acme" if n % 3 else "globex"
        org = organizations[slug]
        subject = f"{TOPICS[n % len(TOPICS)]} #{n + 1}"
        if Interaction.objects.filter(organization=org, subject=subject).exists():
            continue
        author = users[MANAGERS[slug] if n % 2 else "supervisor@example.com"]
        if not permissions.works_organization(author, org):
            author = users["supervisor@example.com"]
        services.log_interaction(
            author,
            kind=KINDS[n % len(KINDS)],
            subject=subject,
            summary="Notes from the conversation: next steps agreed, see the tasks.",
            happened_at=now - timedelta(days=(n * 5) % 70, hours=n % 8),
            organization=org,
            contact=_contact(users, slug, n),
        )
        made += 1
    return made


def _tasks(organizations, users, now) -> int:
    made = 0
    for n in range(24):
        slug = "acme" if n % 2 else "globex"
        org = organizations[slug]
        title = f"{TASKS[n % len(TASKS)]} ({n + 1})"
        if Task.objects.filter(organization=org, title=title).exists():
            continue
        # from five weeks ago to three weeks ahead; a third done
        due = now + timedelta(days=n * 2 - 35, hours=n % 6)
        done = n % 3 == 0
        assignee = users[MANAGERS[slug] if n % 4 else "supervisor@example.com"]
        task = services.create_task(
            users["supervisor@example.com"],
            title=title,
            notes="Agreed in the last call.",
            due_at=due,
            assignee=assignee,
            status=TaskStatus.DONE if done else TaskStatus.TODO,
            organization=org,
            contact=_contact(users, slug, n) if n % 2 else None,
        )
        changes = {"created_at": due - timedelta(days=7)}
        if done:
            changes["completed_at"] = min(due, now)
        if due < now:  # past ones were reminded when they fell due
            changes["reminder_sent_at"] = due
        Task.objects.filter(pk=task.pk).update(**changes)
        made += 1
    return made


def _ticket_follow_ups(organizations, users, now) -> int:
    """Two open tickets of each organization get a follow-up task and a logged call,
    so that the ticket page's Follow-up panel has something to show."""
    made = 0
    for slug in DETAILS:
        org = organizations[slug]
        manager = users[MANAGERS[slug]]
        tickets = Ticket.objects.filter(organization=org).open().order_by("reference")
        for n, ticket in enumerate(tickets[:2]):
            title = f"Call back about {ticket.reference}"
            if not Task.objects.filter(ticket=ticket, title=title).exists():
                author = users["supervisor@example.com"]
                services.create_task(
                    author,
                    title=title,
                    notes="Confirm the fix with the requester.",
                    due_at=now + timedelta(days=n * 3 - 1, hours=2),
                    assignee=manager,
                    ticket=ticket,
                )
                services.log_interaction(
                    author,
                    kind="call",
                    subject=f"Call about {ticket.reference}",
                    summary="Walked through the workaround; the requester will test it.",
                    happened_at=now - timedelta(days=n + 1, hours=3),
                    ticket=ticket,
                )
                made += 1
    return made


def load(context: DemoContext) -> None:
    users = context.objects["users"]
    organizations = context.objects["organizations"]
    supervisor = users["supervisor@example.com"]
    now = timezone.now()
    _details(organizations, users, supervisor)
    made_interactions = _interactions(organizations, users, now)
    made_tasks = _tasks(organizations, users, now)
    made_tasks += _ticket_follow_ups(organizations, users, now)
    context.log(
        f"CRM: {Interaction.objects.count()} interactions ({made_interactions} new), "
        f"{Task.objects.count()} tasks ({made_tasks} new)"
    )
