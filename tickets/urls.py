from django.urls import path

from . import views_attachments

app_name = "tickets"

urlpatterns = [
    path(
        "attachments/<int:pk>/<path:name>",
        views_attachments.download_attachment,
        name="attachment_download",
    ),
]
