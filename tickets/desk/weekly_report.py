"""Last week's helpdesk report by email to the supervisors who asked for it.

Every Monday morning (schedule ``tickets-weekly-report``) each supervisor with
``ReportSubscription.weekly_email`` gets the report by queue for the previous
Monday–Sunday: the table in the email, the CSV export attached (the same bytes as
the desk's "Download CSV" for that week). Who receives it is the policy's
``may_subscribe_to_reports``, asked again every week: an agent, a viewer, or a
supervisor who lost the role gets nothing, whatever their subscription says.

The emails go through the notification outbox (``write_notifications``), written
in one transaction, so a worker killed half-way loses none. Everything in them is
written in the recipient's language when the row is written (their figures, the
CSV's headers and "Total"); the templates render in it when sent. The key
``weekly-report-<ISO week>:<user>:weekly_report`` makes each week's email go out
once per recipient, however often the job runs.
"""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.http import urlencode

from portal.notifications.dispatch import write_notifications
from portal.notifications.models import SentNotification
from portal.notifications.sending import (
    EmailAttachment,
    Outgoing,
    idempotency_key,
    recipient_language,
)

from .. import permissions
from ..models import ReportSubscription
from . import reports

KIND = "weekly_report"
DIMENSION = "queue"


def last_week(today: date) -> tuple[date, date]:
    """Monday and Sunday of the week before ``today``'s."""
    monday = today - timedelta(days=today.weekday()) - timedelta(days=7)
    return monday, monday + timedelta(days=6)


def week_key(monday: date, user_id: int) -> str:
    year, week, _day = monday.isocalendar()
    return idempotency_key(f"weekly-report-{year}-W{week:02d}", user_id, KIND)


def subscribers():
    """Active users who want the weekly email and may receive it, by email."""
    users = (
        get_user_model()
        .objects.filter(
            pk__in=ReportSubscription.objects.filter(weekly_email=True).values(
                "user_id"
            ),
            is_active=True,
        )
        .prefetch_related("groups")  # the role check reads them: no query per user
        .order_by("email")
    )
    return [user for user in users if permissions.may_subscribe_to_reports(user)]


def message_for(user, start: date, end: date) -> Outgoing:
    """The email to ``user`` for ``start``–``end``, in their language."""
    with translation.override(recipient_language(user)):
        rows = reports.report_rows(user, DIMENSION, start, end)
        number = reports.NumberFormat()
        query = urlencode(
            {"dimension": DIMENSION, "start": start.isoformat(), "end": end.isoformat()}
        )
        context = {
            "start": formats.date_format(start, "DATE_FORMAT"),
            "end": formats.date_format(end, "DATE_FORMAT"),
            "headers": reports.headers(DIMENSION),
            "rows": [[row.label, *row.display(number)] for row in rows],
            "report_path": f"{reverse('helpdesk:reports')}?{query}",
        }
        csv_text = reports.to_csv(rows, DIMENSION)
    return Outgoing(
        kind=KIND,
        recipient=user,
        context=context,
        idempotency_key=week_key(start, user.pk),
        attachments=(
            EmailAttachment(
                filename=f"helpdesk-{DIMENSION}-{start}-{end}.csv",
                content=csv_text,
                mimetype="text/csv",
            ),
        ),
    )


def send_weekly_reports(today: date | None = None) -> int:
    """The Monday job: write last week's email for every subscriber not yet sent it
    this week. Returns the number of emails written (0 on a second run)."""
    start, end = last_week(today or timezone.localdate())
    recipients = subscribers()
    done = set(
        SentNotification.objects.filter(
            idempotency_key__in=[week_key(start, user.pk) for user in recipients]
        ).values_list("idempotency_key", flat=True)
    )
    messages = [
        message_for(user, start, end)
        for user in recipients
        if week_key(start, user.pk) not in done
    ]
    with transaction.atomic():
        outcomes = write_notifications(messages)
    return sum(1 for outcome in outcomes if outcome is None)


def set_weekly_email(user, enabled: bool) -> ReportSubscription:
    """Record ``user``'s choice. Only supervisors may choose (``PermissionDenied``
    otherwise, before anything is written). The desk is its only surface."""
    if not permissions.may_subscribe_to_reports(user):
        raise PermissionDenied("Only supervisors receive the weekly report.")
    with transaction.atomic():
        subscription, _created = ReportSubscription.objects.update_or_create(
            user=user, defaults={"weekly_email": enabled}
        )
    return subscription


def is_subscribed(user) -> bool:
    return ReportSubscription.objects.filter(user=user, weekly_email=True).exists()
