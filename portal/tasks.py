from django.core.management import call_command


def publish_scheduled() -> None:
    """Wagtail's scheduled publishing/unpublishing; safe to run twice."""
    call_command("publish_scheduled")
