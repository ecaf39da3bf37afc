"""URLs of the agent desk, mounted at ``/admin/helpdesk/`` by ``tickets.wagtail_hooks``
(namespace ``helpdesk``)."""

from django.urls import path

from . import report_views, views

app_name = "helpdesk"

urlpatterns = [
    path("tickets/", views.inbox_view, name="inbox"),
    path("tickets/bulk/", views.bulk_view, name="bulk"),
    path("tickets/<str:reference>/", views.ticket_view, name="ticket"),
    path(
        "tickets/<str:reference>/<slug:action>/",
        views.ticket_action_view,
        name="ticket_action",
    ),
    path(
        "organization-suggestions/",
        views.organization_suggestions_view,
        name="organization_suggestions",
    ),
    path("organizations/", views.organizations_view, name="organizations"),
    # ``organizations/<slug>/`` (``helpdesk:organization``), the Organization 360, is
    # crm's (crm.desk.urls, through the ``register_helpdesk_urls`` hook).
    path("reports/", views.reports_view, name="reports"),
    path(
        "reports/weekly-email/",
        report_views.weekly_email_view,
        name="reports_weekly_email",
    ),
]
