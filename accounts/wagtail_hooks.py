from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_views, permissions

urls = (
    [
        path("", admin_views.approvals, name="approvals"),
        path("users/<int:pk>/", admin_views.review_user, name="review"),
        path("security-events/", admin_views.security_events, name="security_events"),
    ],
    "accounts_admin",
)


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [path("accounts/", include(urls))]


class ReviewerMenuItem(MenuItem):
    def is_shown(self, request):
        return permissions.can_review_accounts(request.user)


@hooks.register("register_admin_menu_item")
def register_approvals_menu_item():
    return ReviewerMenuItem(
        _("Account approvals"),
        reverse("accounts_admin:approvals"),
        name="account-approvals",
        icon_name="user",
        order=610,
    )


@hooks.register("register_admin_menu_item")
def register_security_events_menu_item():
    return ReviewerMenuItem(
        _("Security events"),
        reverse("accounts_admin:security_events"),
        name="security-events",
        icon_name="lock",
        order=620,
    )
