"""The CRM's place in the desk: its pages in the ``helpdesk`` namespace, "Tasks" in
the Helpdesk menu, the My tasks panel on the admin home and the Follow-up panel on a
ticket's workspace — through the hooks the tickets desk offers, so that tickets never
imports crm."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import permissions
from .desk import follow_up
from .desk import urls as desk_urls
from .desk.panels import MyTasksPanel


@hooks.register("register_helpdesk_urls")
def register_crm_urls():
    return desk_urls.urlpatterns


class CrmMenuItem(MenuItem):
    def is_shown(self, request):
        return permissions.is_crm_user(request.user)


@hooks.register("register_helpdesk_menu_item")
def register_tasks_menu_item():
    return CrmMenuItem(
        _("Tasks"), reverse("helpdesk:tasks"), icon_name="date", order=150
    )


@hooks.register("construct_homepage_panels")
def add_tasks_panel(request, panels):
    if permissions.is_crm_user(request.user):
        panels.append(MyTasksPanel(request))


@hooks.register("register_ticket_workspace_panel")
def follow_up_panel(request, ticket, panel_forms):
    return follow_up.panel(request, ticket, panel_forms)
