"""Credentials and targets for the scenarios, printed as one JSON line.

Run by ``bench/run.py`` in the server's environment. Sessions are created directly in
the session store (as a login would) so that the benchmark does not depend on the
login form; tokens come from ``accounts.tokens.create_token``.
"""

import json
import os
import sys
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.tokens import create_token  # noqa: E402
from portal.loaddata.people import agent_email, customer_email  # noqa: E402
from portal.loaddata.text import SEARCH_TERM  # noqa: E402


def session_for(user: User) -> str:
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(24 * 3600)
    session.save()
    return session.session_key


def token_for(user: User, scopes: str) -> str:
    return create_token(user, name="benchmark", scopes=scopes, expires_days=1).secret


def first_public_article():
    try:
        article_model = apps.get_model("kb", "ArticlePage")
    except LookupError:
        return None
    return (
        article_model.objects.live()
        .public()
        .filter(audience="public")
        .order_by("path")
        .first()
    )


def article_path() -> str:
    article = first_public_article()
    return article.url if article else "/kb/no-articles-yet/"


def article_title() -> str:
    """The article's title: bench/peer.py checks that its page shows it (real
    content, not a sign-in page)."""
    article = first_public_article()
    return article.title if article else ""


def agent_ticket() -> dict:
    """A ticket of agent0's queue (``load-queue-0``) with three comments, as a typical
    conversation: the staff ticket page scenario of bench/peer.py opens it."""
    from django.db.models import Count

    from tickets.models import Ticket

    ticket = (
        Ticket.objects.filter(queue__slug="load-queue-0")
        .annotate(comment_count=Count("comments"))
        .filter(comment_count=3)
        .order_by("pk")
        .first()
    )
    if ticket is None:
        return {"agent_ticket_path": "", "agent_ticket_subject": ""}
    return {
        "agent_ticket_path": ticket.get_admin_url(),
        "agent_ticket_subject": ticket.subject,
    }


def agent_ticket_path(agent: User) -> str:
    """The workspace of the ticket in the agent's queues with the longest
    conversation (a realistic page: many comments, files and events)."""
    from django.db.models import Count

    from tickets.models import Ticket

    reference = (
        Ticket.objects.filter(queue__agent_group__user=agent)
        .annotate(n=Count("comments"))
        .order_by("-n", "pk")
        .values_list("reference", flat=True)
        .first()
    )
    return f"/admin/helpdesk/tickets/{reference}/"


def counts() -> dict:
    found = {"users": User.objects.count()}
    for label in ["tickets.Ticket", "tickets.Comment", "kb.ArticlePage"]:
        try:
            found[label] = apps.get_model(label).objects.count()
        except LookupError:
            pass
    return found


# The create_ticket scenario files as a customer of its own (not the big organization's
# customer0 whose list portal_ticket_list reads), and what earlier runs filed is removed
# first, so that every run starts from the generated data set.
FILED_DESCRIPTION = "Created by the benchmark harness."


def filer() -> User:
    """A customer outside the big organization: the last generated one."""
    return (
        User.objects.filter(
            email__endswith="@load.example", email__startswith="customer"
        )
        .exclude(memberships__organization__slug="load-org-0")
        .order_by("-pk")
        .first()
    )


SUPERVISOR_EMAIL = "supervisor@load.example"


def supervisor() -> User:
    """A supervisor for the report scenario (the load data has none): created once,
    in the Supervisors group as the accounts roles make it."""
    from django.contrib.auth.models import Group

    from accounts import roles

    user = User.objects.filter(email=SUPERVISOR_EMAIL).first()
    if user is None:
        user = User.objects.create_user(SUPERVISOR_EMAIL, is_staff=True)
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get_or_create(name=roles.SUPERVISORS)[0])
    return user


def remove_earlier_filings() -> int:
    from django.db import connection

    from tickets.models import Ticket

    deleted, per_model = Ticket.objects.filter(description=FILED_DESCRIPTION).delete()
    if deleted and connection.vendor == "postgresql":
        # As autovacuum would, before anything is measured: the deleted rows' pages are
        # not all-visible, which costs index-only scans their speed, and their dead
        # index entries are met by the next run's inserts. Every table the delete
        # touched: the models Django deleted from, the search tables the database's
        # own cascade emptied (tickets.models.fulltext), and the deflection rows whose
        # ticket the delete set to NULL.
        from django.apps import apps

        from tickets.models import fulltext

        tables = {apps.get_model(label)._meta.db_table for label in per_model}
        tables |= {fulltext.PG_TABLE, "tickets_ticket_match", "tickets_deflectionevent"}
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM (ANALYZE) " + ", ".join(sorted(tables))  # noqa: S608 - names
            )
    return deleted


def main() -> None:
    removed = remove_earlier_filings()
    customer = User.objects.get(email=customer_email(0))
    agent = User.objects.get(email=agent_email(0))
    filing = filer()
    print(
        json.dumps(
            {
                "customer": customer.email,
                "agent": agent.email,
                "customer_session": session_for(customer),
                "agent_session": session_for(agent),
                "supervisor_session": session_for(supervisor()),
                "filer_token": token_for(filing, "read,write"),
                "filer": filing.email,
                "removed_earlier_rows": removed,
                "agent_token": token_for(agent, "read"),
                "article_path": article_path(),
                # bench/peer.py: content checks, the portal filing form, the workspace
                "article_title": article_title(),
                "filer_session": session_for(filing),
                **agent_ticket(),
                "agent_busy_ticket_path": agent_ticket_path(agent),
                "search_term": SEARCH_TERM,
                "counts": counts(),
            }
        )
    )


if __name__ == "__main__":
    main()
