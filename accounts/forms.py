from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.users.forms import UserCreationForm, UserEditForm


class WagtailUserEditForm(UserEditForm):
    display_name = forms.CharField(
        label=_("Display name"), required=False, max_length=150
    )


class WagtailUserCreationForm(UserCreationForm):
    display_name = forms.CharField(
        label=_("Display name"), required=False, max_length=150
    )
