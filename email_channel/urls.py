from django.urls import path

from . import views

app_name = "email_channel"

urlpatterns = [
    path("messages/<int:pk>/raw/", views.raw_message, name="raw"),
]
