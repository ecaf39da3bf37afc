import logging
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from portal import demo

# Loggers that print one line per background task (Wagtail's search-index tasks run
# through django-tasks; django-q2 logs every enqueue) or per page created, edited and
# published (Wagtail's audit log at INFO): hundreds of lines for the demo.
TASK_LOGGERS = ("django_tasks", "django-q", "django_q", "wagtail")


@contextmanager
def quiet_demo_side_effects():
    """No email and no per-task log lines while the demo is built.

    Publishing the demo's moderated page makes Wagtail email the moderators; those
    messages (and the task log lines) would bury the summary in the middle of
    ``make run``. The demo's own data is created exactly as before."""
    backend = settings.EMAIL_BACKEND
    loggers = [logging.getLogger(name) for name in TASK_LOGGERS]
    levels = [logger.level for logger in loggers]
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        settings.EMAIL_BACKEND = backend
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Command(BaseCommand):
    help = "Create or refresh the demo site (idempotent). Password from DEMO_PASSWORD."

    def handle(self, *args, **options):
        lines: list[str] = []
        with quiet_demo_side_effects(), transaction.atomic():
            context = demo.load(lines.append)
        self.stdout.write(self.style.SUCCESS(_("Demo site ready.")))
        for line in lines:
            self.stdout.write(f"  {line}")
        base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
        self.stdout.write(_("Open:"))
        for path, what in (
            ("/", _("help centre and knowledge base")),
            ("/portal/", _("customer portal: your tickets (sign in as a customer)")),
            ("/admin/", _("admin and agent desk (sign in as staff)")),
        ):
            self.stdout.write(f"  {base + path:<40} {what}")
        self.stdout.write(_("Demo accounts:"))
        accounts = context.objects.get("accounts", [])
        width = max((len(email) for email, _role in accounts), default=0)
        for email, role in accounts:
            self.stdout.write(f"  {email:<{width}}  {role}")
        self.stdout.write(
            _("Demo password: %(password)s") % {"password": context.password}
        )
