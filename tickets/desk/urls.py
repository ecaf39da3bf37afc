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
    path("organizations/<slug:slug>/", views.organization_view, name="organization"),
    path("reports/", views.reports_view, name="reports"),
    path(
        "reports/weekly-email/",
        report_views.weekly_email_view,
        name="reports_weekly_email",
    ),
]
