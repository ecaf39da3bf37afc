from django.urls import path

from . import views

app_name = "live"

urlpatterns = [
    path("inbox/events", views.inbox_events, name="inbox_events"),
    path("tickets/<str:reference>/events", views.ticket_events, name="ticket_events"),
    path("tickets/<str:reference>/presence", views.presence_beat, name="presence_beat"),
]
