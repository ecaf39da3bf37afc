"""The agent desk's place in the Wagtail admin: URLs under ``/admin/helpdesk/``, the
Helpdesk menu (agents, supervisors, viewers, administrators), the dashboard panels and
the canned-response snippets.

Apps above tickets (crm) extend the desk without tickets importing them: their
``register_helpdesk_urls`` hooks return URL patterns mounted in the ``helpdesk``
namespace (before the desk's own, so that they may take over a path), their
``register_helpdesk_menu_item`` hooks add items to the Helpdesk menu, and their
``register_ticket_workspace_panel`` hooks add panels to a ticket's workspace
(``desk.workspace``)."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .desk import urls as desk_urls
from .desk.access import is_desk_user
from .desk.panels import panels_for
from .models import CannedResponse


@hooks.register("register_admin_urls")
def register_helpdesk_urls():
    extra = [
        pattern
        for register in hooks.get_hooks("register_helpdesk_urls")
        for pattern in register()
    ]
    patterns = (extra + desk_urls.urlpatterns, desk_urls.app_name)
    return [path("helpdesk/", include(patterns, namespace="helpdesk"))]


class DeskMenuItem(MenuItem):
    def is_shown(self, request):
        return is_desk_user(request.user)


class CannedMenuItem(MenuItem):
    def is_shown(self, request):
        return is_desk_user(request.user) and request.user.has_perm(
            "tickets.view_cannedresponse"
        )


class CannedResponseViewSet(SnippetViewSet):
    """Ready-made replies, optionally limited to one queue. Supervisors manage them;
    agents pick them in the ticket workspace."""

    model = CannedResponse
    icon = "comment"
    menu_label = _("Canned responses")
    list_display = ["title", "queue", "created_at"]
    list_filter = ["queue"]
    search_fields = ["title", "body"]
    ordering = ["title"]
    add_to_admin_menu = False


register_snippet(CannedResponseViewSet)


@hooks.register("register_admin_menu_item")
def register_helpdesk_menu():
    menu = Menu(
        items=[
            DeskMenuItem(
                _("Inbox"), reverse("helpdesk:inbox"), icon_name="tasks", order=100
            ),
            DeskMenuItem(
                _("Organizations"),
                reverse("helpdesk:organizations"),
                icon_name="group",
                order=200,
            ),
            DeskMenuItem(
                _("Reports"), reverse("helpdesk:reports"), icon_name="table", order=300
            ),
            CannedMenuItem(
                _("Canned responses"),
                reverse("wagtailsnippets_tickets_cannedresponse:list"),
                icon_name="comment",
                order=400,
            ),
        ],
        register_hook_name="register_helpdesk_menu_item",
    )
    return SubmenuMenuItem(_("Helpdesk"), menu, icon_name="help", order=150)


@hooks.register("construct_homepage_panels")
def add_helpdesk_panels(request, panels):
    if is_desk_user(request.user):
        panels[:0] = panels_for(request)
