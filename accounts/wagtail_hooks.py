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


# Wagtail's account page no longer changes passwords or email addresses (allauth owns
# credentials, see WAGTAIL_PASSWORD_MANAGEMENT_ENABLED): it links to allauth's pages.
SIGN_IN_SETTINGS = (
    (
        "account_change_password",
        _("Change password"),
        _("Change the password you sign in with."),
    ),
    (
        "account_email",
        _("Email addresses"),
        _("Add, verify or remove the addresses you sign in with."),
    ),
    (
        "mfa_index",
        _("Two-factor authentication"),
        _("Set up an authenticator app and recovery codes."),
    ),
)


def _sign_in_settings_item(url_name, label, help_text):
    def item(request):
        return {"url": reverse(url_name), "label": label, "help_text": help_text}

    return item


for _url_name, _label, _help_text in SIGN_IN_SETTINGS:
    hooks.register(
        "register_account_menu_item",
        _sign_in_settings_item(_url_name, _label, _help_text),
    )
