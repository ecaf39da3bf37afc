"""Ticket numbers kept by the database's triggers (migration ``0026_visibility_tallies``),
for the support team's exact unnarrowed count (``permissions.count_visible``, bench
FINDINGS G-8): never written by Python. Each number is split over ``TALLY_SHARDS`` rows
(the ticket id modulo ``TALLY_SHARDS``) so that concurrent filings into one queue add to
different rows instead of waiting for one another's row lock; a number is the sum of its
rows, and a shard may be negative (a ticket moved or deleted counts against the shard of
its id, whichever shard counted it)."""

from django.conf import settings
from django.db import models

from .queues import Queue

TALLY_SHARDS = 16


class QueueTally(models.Model):
    """How many tickets ``queue`` holds: the sum over its shards. Changed by every
    insert, ``queue_id`` change and delete of a ticket, in the statement's transaction."""

    queue = models.ForeignKey(
        Queue,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the unique constraint leads with it
        related_name="+",
    )
    shard = models.SmallIntegerField()
    tickets = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "shard"], name="tickets_queue_tally_unique"
            )
        ]

    def __str__(self):
        return f"queue {self.queue_id} shard {self.shard}: {self.tickets}"


class GrantTally(models.Model):
    """How many of ``queue``'s tickets ``user`` holds ``view_ticket`` on by a row of their
    own (``TicketUserObjectPermission``): the sum over the shards. Kept for the users
    listed in ``TalliedUser`` only (migration 0028: who work a queue); changed by every
    insert and delete of such a row and every ``queue_id`` change of its ticket."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the unique constraint leads with it
        related_name="+",
    )
    queue = models.ForeignKey(
        Queue,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    shard = models.SmallIntegerField()
    tickets = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "queue", "shard"], name="tickets_grant_tally_unique"
            )
        ]

    def __str__(self):
        return f"user {self.user_id} queue {self.queue_id} shard {self.shard}: {self.tickets}"


class TalliedUser(models.Model):
    """A user whose ``view_ticket`` rows ``GrantTally`` counts (migration
    ``0028_tally_agents_only``): listed by the database when they join a queue's agent
    group, their rows counted then, never unlisted. The support team's count reads
    ``GrantTally`` for a listed user only; customers' filings write no tally row of
    theirs."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
    )

    def __str__(self):
        return f"user {self.user_id}"


def recount(using: str = "default") -> None:
    """Every tally counted again from the rows as they are, the users who work a queue
    listed: for a restore (``portal.backup.load_database``), whose ``loaddata``
    writes the grants before the permission rows the triggers look ``view_ticket``
    up in (the apps' order), so the triggers could not count them. Not safe beside
    concurrent writers (the migrations' backfills take a lock; a restore runs alone)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.db.models import Count, F

    from .tickets import Ticket, TicketUserObjectPermission

    memberships = get_user_model().groups.through.objects.using(using)
    with transaction.atomic(using=using):
        for model in (QueueTally, GrantTally, TalliedUser):
            model.objects.using(using).all().delete()
        queues = (
            Ticket.objects.using(using)
            .order_by()
            .annotate(shard=F("id") % TALLY_SHARDS)
            .values("queue_id", "shard")
            .annotate(n=Count("*"))
        )
        QueueTally.objects.using(using).bulk_create(
            QueueTally(queue_id=row["queue_id"], shard=row["shard"], tickets=row["n"])
            for row in queues
        )
        agents = set(
            memberships.filter(
                group__in=Queue.objects.using(using).values("agent_group")
            ).values_list("user_id", flat=True)
        )
        TalliedUser.objects.using(using).bulk_create(
            TalliedUser(user_id=pk) for pk in sorted(agents)
        )
        grants = (
            TicketUserObjectPermission.objects.using(using)
            .order_by()
            .filter(
                user_id__in=agents,
                permission__codename="view_ticket",
                permission__content_type__app_label="tickets",
            )
            .annotate(
                queue=F("content_object__queue_id"),
                shard=F("content_object_id") % TALLY_SHARDS,
            )
            .values("user_id", "queue", "shard")
            .annotate(n=Count("*"))
        )
        GrantTally.objects.using(using).bulk_create(
            GrantTally(
                user_id=row["user_id"],
                queue_id=row["queue"],
                shard=row["shard"],
                tickets=row["n"],
            )
            for row in grants
        )
