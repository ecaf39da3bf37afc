"""Who receives the helpdesk report by email."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportSubscription(models.Model):
    """A staff member's choice to receive last week's helpdesk report every Monday.

    Only supervisors may make the choice (``permissions.may_subscribe_to_reports``),
    and the weekly job asks the same question again before each email: someone who
    lost the role keeps the row (their choice, should the role come back) and gets
    nothing.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="report_subscription",
    )
    weekly_email = models.BooleanField(
        _("weekly report by email"),
        default=False,
        help_text=_("Last week's report every Monday morning, with the CSV attached."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")

    def __str__(self):
        return f"{self.user_id}: weekly={self.weekly_email}"
