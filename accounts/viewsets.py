"""Wagtail's user management for our email-only User (wired in AccountsConfig.ready)."""

from wagtail.users.views.users import UserViewSet as WagtailUserViewSet

from .forms import WagtailUserCreationForm, WagtailUserEditForm


class UserViewSet(WagtailUserViewSet):
    create_template_name = "accounts/wagtail/user_create.html"
    edit_template_name = "accounts/wagtail/user_edit.html"

    def get_form_class(self, for_update=False):
        return WagtailUserEditForm if for_update else WagtailUserCreationForm
