"""The reports page's own small views: the supervisor's weekly-email choice.

(The page itself is ``views.reports_view``; its downloads are ``exports``.)
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import permissions
from . import weekly_report


def weekly_email_context(request) -> dict | None:
    """What the reports page shows of the choice: nothing for whoever may not make
    it, else the current choice and where to post a change."""
    user = request.user
    if not permissions.may_subscribe_to_reports(user):
        return None
    return {
        "subscribed": weekly_report.is_subscribed(user),
        "url": reverse("helpdesk:reports_weekly_email"),
    }


@require_POST
def weekly_email_view(request):
    """Turn the weekly report email on (``weekly_email=on``) or off. For anyone
    but a supervisor this page does not exist (404, nothing written)."""
    if not permissions.may_subscribe_to_reports(request.user):
        raise Http404
    enabled = request.POST.get("weekly_email") == "on"
    weekly_report.set_weekly_email(request.user, enabled)
    if enabled:
        messages.success(
            request, _("You will receive last week's report every Monday morning.")
        )
    else:
        messages.success(request, _("You will no longer receive the weekly report."))
    return redirect("helpdesk:reports")
