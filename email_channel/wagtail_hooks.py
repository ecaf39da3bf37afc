"""Queue mailboxes in the Wagtail admin (Snippets → Mailboxes)."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import Mailbox


class MailboxViewSet(SnippetViewSet):
    model = Mailbox
    icon = "mail"
    menu_label = _("Mailboxes")
    list_display = ["queue", "host", "username", "folder", "last_polled_at"]
    add_to_admin_menu = False
    exclude_form_fields = ["last_polled_at", "last_error"]


register_snippet(MailboxViewSet)
