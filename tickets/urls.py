from django.urls import path

from . import views_attachments
from .portal import detail, new, views

app_name = "tickets"

urlpatterns = [
    # the customer portal's filing first: tried before the others (portal.urls)
    path("tickets/new/", new.new_ticket, name="portal_new_ticket"),
    path(
        "attachments/<int:pk>/<path:name>",
        views_attachments.download_attachment,
        name="attachment_download",
    ),
    # the customer portal
    path("", views.dashboard, name="portal_dashboard"),
    path("tickets/", views.ticket_list, name="portal_ticket_list"),
    path("deflection/", new.deflection_beacon, name="portal_deflection"),
    path("tickets/<str:reference>/", detail.ticket_detail, name="portal_ticket"),
    path("tickets/<str:reference>/reply/", detail.ticket_reply, name="portal_reply"),
    path(
        "tickets/<str:reference>/status/",
        detail.ticket_status,
        name="portal_status",
    ),
    path("tickets/<str:reference>/rate/", detail.ticket_rate, name="portal_rate"),
]
