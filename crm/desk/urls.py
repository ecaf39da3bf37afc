"""The CRM's desk URLs, mounted in the ``helpdesk`` namespace under ``/admin/helpdesk/``
by ``crm.wagtail_hooks`` (the tickets desk's ``register_helpdesk_urls`` hook). The
Organization 360 takes over ``organizations/<slug>/`` (``helpdesk:organization``); the
ticket workspace's Follow-up panel posts under ``tickets/<reference>/follow-up/``."""

from django.urls import path

from . import follow_up, views

urlpatterns = [
    path("tasks/", views.tasks_view, name="tasks"),
    path("tasks/new/", views.task_create_view, name="task_create"),
    path("tasks/complete/", views.tasks_bulk_view, name="tasks_complete"),
    path("tasks/<int:pk>/", views.task_view, name="task"),
    path("organizations/<slug:slug>/", views.organization_view, name="organization"),
    path(
        "organizations/<slug:slug>/details/",
        views.organization_details_view,
        name="organization_details",
    ),
    path(
        "organizations/<slug:slug>/interactions/",
        views.organization_interaction_view,
        name="organization_interaction",
    ),
    path(
        "tickets/<str:reference>/follow-up/task/",
        follow_up.ticket_task_view,
        name="ticket_follow_up_task",
    ),
    path(
        "tickets/<str:reference>/follow-up/interaction/",
        follow_up.ticket_interaction_view,
        name="ticket_follow_up_interaction",
    ),
]
