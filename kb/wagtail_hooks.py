"""Admin reports for editors (helpfulness per article and searches that found nothing),
and the hooks that connect the KB pages to ``kb.rendering``."""

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.reports import ReportView

from . import rendering
from .models import PAGE_CONTEXT_HOOK, ArticlePage, UnansweredSearch
from .permissions import can_view_feedback_report

# KB pages' serving checks run inside Wagtail's own view-restriction check (order 0),
# so a restricted page is refused before a view is counted or a page marked cacheable.
hooks.register("on_serve_page", rendering.serve, order=100)
hooks.register(PAGE_CONTEXT_HOOK, rendering.extend_context)


class EditorsOnlyMixin:
    def dispatch(self, request, *args, **kwargs):
        if not can_view_feedback_report(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class HelpfulnessReportView(EditorsOnlyMixin, ReportView):
    """Votes per article, least helpful first: what to rewrite next."""

    page_title = _("Article helpfulness")
    header_icon = "help"
    index_url_name = "kb_helpfulness_report"
    index_results_url_name = "kb_helpfulness_report_results"
    list_export = ["title", "helpful_votes", "unhelpful_votes", "total_votes"]
    export_headings = {
        "helpful_votes": _("Helpful"),
        "unhelpful_votes": _("Not helpful"),
        "total_votes": _("Votes"),
    }
    columns = [
        TitleColumn(
            "title",
            label=_("Article"),
            get_url=lambda page: reverse("wagtailadmin_pages:edit", args=[page.pk]),
        ),
        Column("helpful_votes", label=_("Helpful")),
        Column("unhelpful_votes", label=_("Not helpful")),
        Column("total_votes", label=_("Votes")),
        Column("helpful_percent", label=_("Helpful %")),
    ]

    def get_queryset(self):
        return (
            ArticlePage.objects.annotate(
                helpful_votes=Count("feedback", filter=Q(feedback__helpful=True)),
                unhelpful_votes=Count("feedback", filter=Q(feedback__helpful=False)),
                total_votes=Count("feedback"),
            )
            .filter(total_votes__gt=0)
            .order_by((F("unhelpful_votes") - F("helpful_votes")).desc(), "title")
        )

    def decorate_paginated_queryset(self, object_list):
        for page in object_list:
            page.helpful_percent = round(100 * page.helpful_votes / page.total_votes)
        return object_list


class UnansweredSearchReportView(EditorsOnlyMixin, ReportView):
    """What readers searched for and did not find, most frequent first."""

    page_title = _("Unanswered searches")
    header_icon = "search"
    index_url_name = "kb_unanswered_searches_report"
    index_results_url_name = "kb_unanswered_searches_report_results"
    list_export = ["query_string", "hits", "last_searched_at"]
    columns = [
        Column("query_string", label=_("Search phrase")),
        Column("hits", label=_("Times searched")),
        DateColumn("last_searched_at", label=_("Last searched")),
    ]

    def get_queryset(self):
        return UnansweredSearch.objects.order_by("-hits", "-last_searched_at")


@hooks.register("register_admin_urls")
def register_report_urls():
    return [
        path(
            "reports/kb-helpfulness/",
            HelpfulnessReportView.as_view(),
            name="kb_helpfulness_report",
        ),
        path(
            "reports/kb-helpfulness/results/",
            HelpfulnessReportView.as_view(results_only=True),
            name="kb_helpfulness_report_results",
        ),
        path(
            "reports/kb-unanswered-searches/",
            UnansweredSearchReportView.as_view(),
            name="kb_unanswered_searches_report",
        ),
        path(
            "reports/kb-unanswered-searches/results/",
            UnansweredSearchReportView.as_view(results_only=True),
            name="kb_unanswered_searches_report_results",
        ),
    ]


class EditorsMenuItem(MenuItem):
    def is_shown(self, request):
        return can_view_feedback_report(request.user)


@hooks.register("register_reports_menu_item")
def register_helpfulness_menu_item():
    return EditorsMenuItem(
        _("Article helpfulness"),
        reverse("kb_helpfulness_report"),
        name="kb-helpfulness",
        icon_name="help",
        order=1300,
    )


@hooks.register("register_reports_menu_item")
def register_unanswered_searches_menu_item():
    return EditorsMenuItem(
        _("Unanswered searches"),
        reverse("kb_unanswered_searches_report"),
        name="kb-unanswered-searches",
        icon_name="search",
        order=1310,
    )


@hooks.register("register_log_actions")
def register_kb_log_actions(actions):
    actions.register_action("kb.feedback", _("Feedback"), _("Reader feedback"))
