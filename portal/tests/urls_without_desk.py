"""A URL configuration without the desk (``test_kept_translations_urls``)."""

urlpatterns = []
