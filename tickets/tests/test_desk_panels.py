"""Dashboard panels on the admin home and the Helpdesk menu: who gets them, and that
every chart is an accessible figure (svg with role and label, caption, hidden table
with the same numbers)."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from wagtail.admin.menu import admin_menu

from accounts import roles
from tickets import services
from tickets.desk import charts
from tickets.desk.panels import created_vs_resolved, deflection_rate

from .factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db
FIGURE = re.compile(r'<figure class="chart">(.*?)</figure>', re.S)


def test_helpdesk_roles_may_open_the_admin():
    for name in roles.HELPDESK_ROLES:
        assert Permission.objects.filter(
            group__name=name, codename="access_admin"
        ).exists(), name


def test_dashboard_panels_render_accessible_charts(client, agent, ticket):
    services.reply(agent, ticket, body="On it")
    services.change_status(agent, ticket, "resolved")
    client.force_login(agent)
    response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    figures = FIGURE.findall(html)
    assert len(figures) == 3
    for figure in figures:
        assert re.search(r'<svg role="img" aria-label="[^"]+"', figure)
        assert "<figcaption>" in figure
        assert '<table class="w-sr-only desk-sr-only">' in figure
        assert "<script" not in figure
    trend = figures[0]
    assert (
        'aria-label="Created vs resolved, last 30 days: Created 1 in total; Resolved 1 in total"'
        in trend
    )
    assert "My open tickets" in html
    assert "no data yet" in html  # KB deflection rate without the portal module


def test_summary_counts(client, agent, queue, alice):
    mine = TicketFactory(requester=alice, queue=queue)
    services.assign(agent, mine, agent)
    TicketFactory(requester=alice, queue=queue)
    client.force_login(agent)
    html = client.get("/admin/").content.decode()
    assert re.search(r'view=mine">1</a>', html)
    assert re.search(r'view=unassigned">1</a>', html)
    assert re.search(r'view=breached">0</a>', html)


def test_editor_gets_no_helpdesk(client):
    editor = UserFactory(roles=[roles.EDITORS])
    client.force_login(editor)
    html = client.get("/admin/").content.decode()
    assert 'class="chart"' not in html
    assert client.get("/admin/helpdesk/tickets/").status_code == 404


def test_customer_cannot_reach_the_desk(client, alice):
    client.force_login(alice)
    response = client.get("/admin/helpdesk/tickets/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (roles.AGENTS, True),
        (roles.SUPERVISORS, True),
        (roles.VIEWERS, True),
        (roles.EDITORS, False),
        (roles.CUSTOMERS, False),
    ],
)
def test_helpdesk_menu_is_for_helpdesk_roles(role, shown):
    user = UserFactory(roles=[role])
    request = RequestFactory().get("/admin/")
    request.user = user
    names = [item.name for item in admin_menu.menu_items_for_request(request)]
    assert ("helpdesk" in names) is shown


def test_superuser_gets_the_menu():
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    assert "helpdesk" in [i.name for i in admin_menu.menu_items_for_request(request)]


def test_deflection_rate_is_a_percentage_of_portal_visits(db):
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from tickets.models import DeflectionEvent

    since = timezone.now() - timedelta(days=30)
    assert deflection_rate(since) is None
    for outcome, count in (("deflected", 3), ("filed", 5)):
        for _ in range(count):
            DeflectionEvent.objects.create(
                token=uuid.uuid4(), outcome=outcome, shown_count=2
            )
    assert deflection_rate(since) == 37.5


def test_created_vs_resolved_counts_per_day(supervisor, agent, ticket):
    services.change_status(agent, ticket, "resolved")
    days, created, resolved = created_vs_resolved(supervisor, days=3)
    assert len(days) == 3
    assert (created, resolved) == ([0, 0, 1], [0, 0, 1])


def test_chart_text_is_escaped():
    chart = charts.bar_chart(
        "Per <queue>",
        "caption",
        ['<script>alert("x")</script>'],
        [50.0],
        series_name="SLA",
        label_header="Queue",
        unit="%",
        top=100,
    )
    assert "<script>" not in chart.svg
    assert "&lt;script&gt;" in chart.svg
    assert chart.rows == [('<script>alert("x")</script>', [50.0])]
