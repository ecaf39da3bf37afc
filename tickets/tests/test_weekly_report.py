"""The weekly report email: supervisors who opted in get last week's report by queue
on Monday, the CSV export attached, in their language, once per week; nobody else
gets anything, and only supervisors may opt in."""

import csv
import io
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import translation

from accounts import roles
from portal.notifications.models import SentNotification
from portal.schedules import SCHEDULES
from tickets.desk import reports, weekly_report
from tickets.models import ReportSubscription
from tickets.statistics import store

from .factories import make_agent, make_supervisor, make_viewer
from .test_desk_reports import T0, make

pytestmark = pytest.mark.django_db
MONDAY = date(2025, 3, 17)  # the job's run; last week is 10–16 March 2025
WEEK = (date(2025, 3, 10), date(2025, 3, 16))


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run the job and the delivery it wakes up (the worker runs inline in tests)."""

    def _run(today=MONDAY):
        with django_capture_on_commit_callbacks(execute=True):
            return weekly_report.send_weekly_reports(today=today)

    return _run


@pytest.fixture
def week_of_tickets(alice, queue, other_queue, acme):
    make(alice, queue, org=acme, hours_to_reply=1, hours_to_resolve=10, rating=5)
    make(alice, other_queue, org=acme, hours_to_reply=6)
    # created the week before (not counted as created), still open: in Support's
    # backlog at the week's end
    make(alice, queue, created=T0.replace(day=3))
    # the statistics job, as production runs it: a whole week reads its roll-ups
    store.backfill(14, now=T0.replace(day=17, hour=6))
    # the tickets' own emails (receipts, agent alerts) are not what is tested here
    SentNotification.objects.all().delete()


def subscribe(user, weekly=True):
    return ReportSubscription.objects.create(user=user, weekly_email=weekly)


def test_last_week_is_monday_to_sunday_before_today():
    assert weekly_report.last_week(MONDAY) == WEEK
    assert weekly_report.last_week(date(2025, 3, 23)) == WEEK  # a Sunday
    assert weekly_report.last_week(date(2025, 3, 10)) == (
        date(2025, 3, 3),
        date(2025, 3, 9),
    )


def test_the_job_is_scheduled_on_monday_mornings():
    [job] = [j for j in SCHEDULES if j.name == "tickets-weekly-report"]
    assert job.func == "tickets.desk.weekly_report.send_weekly_reports"
    assert job.cron == "0 7 * * 1"


def test_a_subscribed_supervisor_gets_the_report_with_the_csv_export(
    run, client, supervisor, week_of_tickets
):
    subscribe(supervisor)
    assert run() == 1
    [email] = mail.outbox
    assert email.to == ["supervisor@example.com"]
    assert email.subject == "Helpdesk report, 10 Mar 2025 – 16 Mar 2025"
    assert " · ".join(reports.headers("queue")) in email.body
    assert (
        "Queue · Created · Resolved · Backlog at the end · Median first response (h)"
        in email.body
    )
    # Billing: created, answered late, still open (backlog, no SLA outcome yet)
    assert "Billing · 1 · 0 · 1 · 6.0 · – · – · – · 0" in email.body
    # Support: one resolved within its SLA and rated 5; the week before's still open
    assert "Support · 1 · 1 · 1 · 1.0 · 10.0 · 100.0 · 5.00 · 1" in email.body
    assert "Total · 2 · 1 · 2 · 3.5 · 10.0 · 100.0 · 5.00 · 1" in email.body
    assert "The helpdesk's figures from 10 Mar 2025 to 16 Mar 2025" in email.body
    assert (
        "http://testserver/admin/helpdesk/reports/?dimension=queue"
        "&start=2025-03-10&end=2025-03-16" in email.body
    )
    [(html, _type)] = email.alternatives
    assert '<th scope="row" style="text-align:left;">Support</th>' in html
    [(name, content, mimetype)] = email.attachments
    assert name == "helpdesk-queue-2025-03-10-2025-03-16.csv"
    assert mimetype.startswith("text/csv")
    client.force_login(supervisor)
    export = client.get(
        "/admin/helpdesk/reports/",
        {
            "dimension": "queue",
            "start": "2025-03-10",
            "end": "2025-03-16",
            "format": "csv",
        },
    )
    assert content == export.content.decode()
    assert list(csv.reader(io.StringIO(content)))[-1] == [
        "Total",
        "2",
        "1",
        "2",
        "3.5",
        "10.0",
        "100.0",
        "5.00",
        "1",
    ]
    row = SentNotification.objects.get()
    assert row.status == "sent"
    assert row.idempotency_key == (
        f"weekly-report-2025-W11:{supervisor.pk}:weekly_report"
    )


def test_running_twice_sends_once_and_next_week_sends_again(
    run, supervisor, week_of_tickets
):
    subscribe(supervisor)
    assert run() == 1
    assert run() == 0
    assert run(date(2025, 3, 19)) == 0  # a late rerun in the same week
    assert len(mail.outbox) == 1
    assert SentNotification.objects.count() == 1
    assert run(date(2025, 3, 24)) == 1
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == "Helpdesk report, 17 Mar 2025 – 23 Mar 2025"


def test_a_rerun_after_a_lost_delivery_sends_the_written_email_once(
    supervisor, week_of_tickets, django_capture_on_commit_callbacks
):
    """The first run wrote the row but its wake-up never ran (a killed worker): the
    rerun writes nothing new and the reconciliation sends the row once."""
    from portal.notifications.tasks import deliver_due_notifications

    subscribe(supervisor)
    with django_capture_on_commit_callbacks(execute=False):
        assert weekly_report.send_weekly_reports(today=MONDAY) == 1
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert weekly_report.send_weekly_reports(today=MONDAY) == 0
    deliver_due_notifications()
    deliver_due_notifications()
    assert len(mail.outbox) == 1
    assert len(mail.outbox[0].attachments) == 1


@pytest.mark.parametrize(
    "who",
    ["agent", "viewer", "lost_role", "unsubscribed", "inactive", "not_opted"],
)
def test_nobody_else_gets_it(run, who, queue, week_of_tickets):
    if who == "agent":
        subscribe(make_agent(queue))  # a row written around the desk's check
    elif who == "viewer":
        subscribe(make_viewer())
    elif who == "lost_role":
        former = make_supervisor()
        subscribe(former)
        former.groups.remove(Group.objects.get(name=roles.SUPERVISORS))
    elif who == "unsubscribed":
        subscribe(make_supervisor(), weekly=False)
    elif who == "inactive":
        gone = make_supervisor(is_active=False)
        subscribe(gone)
    else:
        make_supervisor()
    assert run() == 0
    assert mail.outbox == []
    assert not SentNotification.objects.exists()


def test_the_email_is_in_the_recipients_language(run, week_of_tickets):
    polish = make_supervisor(email="kierownik@example.com", locale="pl")
    subscribe(polish)
    english = make_supervisor(email="boss@example.com")
    subscribe(english)
    assert run() == 2
    by_address = {m.to[0]: m for m in mail.outbox}
    [(_name, content, _type)] = by_address["kierownik@example.com"].attachments
    with translation.override("pl"):
        expected = reports.to_csv(reports.report_rows(polish, "queue", *WEEK), "queue")
        header = reports.headers("queue")
    assert content == expected
    assert content.splitlines()[0] == ",".join(header)
    assert content.splitlines()[-1].startswith("Razem,2,")
    assert by_address["kierownik@example.com"].body.startswith("Dzień dobry")
    [(_name, english_csv, _type)] = by_address["boss@example.com"].attachments
    assert english_csv.splitlines()[-1].startswith("Total,2,")


# --- the choice, on the desk reports page ------------------------------------------

URL = "/admin/helpdesk/reports/weekly-email/"


def test_a_supervisor_turns_it_on_and_off(client, supervisor):
    client.force_login(supervisor)
    page = client.get("/admin/helpdesk/reports/").content.decode()
    assert f'action="{URL}"' in page
    assert 'name="weekly_email">' in page  # unchecked
    response = client.post(URL, {"weekly_email": "on"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/helpdesk/reports/"
    assert ReportSubscription.objects.get(user=supervisor).weekly_email is True
    page = client.get("/admin/helpdesk/reports/").content.decode()
    assert 'name="weekly_email" checked>' in page
    client.post(URL, {})
    assert ReportSubscription.objects.get(user=supervisor).weekly_email is False


@pytest.mark.parametrize("role", ["agent", "viewer", "customer"])
def test_others_cannot_opt_in_and_do_not_see_the_choice(client, role, agent, alice):
    user = {"agent": agent, "viewer": make_viewer(), "customer": alice}[role]
    client.force_login(user)
    response = client.post(URL, {"weekly_email": "on"})
    if role == "customer":  # Wagtail's admin-access check, as for every desk page
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    else:
        assert response.status_code == 404
    assert not ReportSubscription.objects.exists()
    if role != "customer":
        page = client.get("/admin/helpdesk/reports/").content.decode()
        assert URL not in page
    with pytest.raises(weekly_report.PermissionDenied):
        weekly_report.set_weekly_email(user, True)
    assert not ReportSubscription.objects.exists()


def test_anonymous_is_sent_to_sign_in_and_nothing_is_written(client):
    response = client.post(URL, {"weekly_email": "on"})
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert not ReportSubscription.objects.exists()


def test_the_choice_is_posted_not_fetched(client, supervisor):
    client.force_login(supervisor)
    assert client.get(URL, {"weekly_email": "on"}).status_code == 405
    assert not ReportSubscription.objects.exists()
