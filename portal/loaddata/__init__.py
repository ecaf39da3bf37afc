"""The load-data generator behind ``manage.py generate_load_data``."""

import random
from dataclasses import dataclass

from django.db import transaction
from tqdm import tqdm

from accounts.models import User

from .articles import create_articles, kb_available
from .people import DOMAIN, People, create_people, customer_email
from .writer import BulkWriter, vacuum_analyze


class AlreadyGenerated(Exception):
    pass


@dataclass(frozen=True)
class Sizes:
    articles: int
    tickets: int
    organizations: int
    customers: int
    agents: int = 20
    queues: int = 5
    seed: int = 1


@dataclass
class Result:
    people: People
    article_ids: list[int]
    tickets: (
        object | None
    )  # portal.loaddata.tickets.Tickets once the tickets app exists
    skipped: list[str]


def already_generated(using: str = "default") -> bool:
    return User.objects.using(using).filter(email=customer_email(0)).exists()


def generate(sizes: Sizes, *, progress: bool = True, using: str = "default") -> Result:
    """Write the whole data set in one transaction: on any error nothing is left."""
    if sizes.organizations < 1 or sizes.customers < 1 or sizes.agents < 1:
        raise ValueError("At least one organization, customer and agent are needed.")
    if already_generated(using):
        raise AlreadyGenerated(
            f"Load data (users @{DOMAIN}) already exists in this database; "
            "generate into a fresh one."
        )
    rng = random.Random(sizes.seed)
    skipped = []

    def bar(desc, total):
        return tqdm(
            total=total, desc=desc, unit="row", disable=not progress, leave=True
        )

    with transaction.atomic(using=using):
        writer = BulkWriter(using)
        with bar("people", sizes.organizations + sizes.customers + sizes.agents) as b:
            people = create_people(
                writer,
                rng,
                organizations=sizes.organizations,
                customers=sizes.customers,
                agents=sizes.agents,
                bar=b,
            )
        writer.finish()
        tickets = None
        if sizes.tickets:
            from . import tickets as ticket_module

            if ticket_module.tickets_available():
                tickets = ticket_module.create_tickets(
                    writer, rng, people, sizes, bar=bar
                )
                writer.finish()
            else:
                skipped.append("tickets (the tickets app has no Ticket model yet)")
        article_ids = []
        if sizes.articles:
            if kb_available():
                with bar("articles", sizes.articles) as b:
                    article_ids = create_articles(rng, sizes.articles, b)
            else:
                skipped.append("articles (the kb app has no ArticlePage model yet)")
    if not transaction.get_connection(using).in_atomic_block:
        # the search documents the tickets' and comments' triggers rebuilt (a live
        # database's autovacuum would have visited them too)
        vacuum_analyze(writer, also=("tickets_ticket_search", "tickets_ticket_match"))
    return Result(people, article_ids, tickets, skipped)
