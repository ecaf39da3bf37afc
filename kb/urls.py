from django.urls import path

from . import views

app_name = "kb"

# Mounted at /kb/ before Wagtail's catch-all; every other /kb/... path is a page.
urlpatterns = [
    path("search/", views.search, name="search"),
    path("suggest/", views.suggest, name="suggest"),
    path("feedback/<int:article_id>/", views.feedback, name="feedback"),
]
