from django import forms
from django.utils.translation import gettext_lazy as _

from .services import COMMENT_MAX_LENGTH
from .text import QUERY_MAX_LENGTH


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=QUERY_MAX_LENGTH, required=False)
    category = forms.IntegerField(
        label=_("Category"), required=False, min_value=1, max_value=2**63 - 1
    )


class FeedbackForm(forms.Form):
    helpful = forms.TypedChoiceField(
        label=_("Was this article helpful?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
    )
    comment = forms.CharField(
        label=_("What could be better? (optional)"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
