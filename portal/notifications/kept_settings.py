"""The settings the delivery of every email reads, read once and again after a change.

Reading a setting through Django's ``LazySettings`` costs four Python calls (its
``__getattribute__``), and delivering one email read about ten (the attempts limit,
the languages, the Message-ID domain and key, the sender, the charset; bench/FINDINGS.md,
N-6). They are read here once per process and forgotten on ``setting_changed`` (what
``override_settings`` and pytest-django's ``settings`` fixture send), as the email
skeletons are (``portal.notifications.skeletons``)."""

from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed


@dataclass(frozen=True)
class Kept:
    languages: dict  # code -> name (``settings.LANGUAGES``)
    language_code: str
    max_attempts: int  # NOTIFICATIONS_MAX_ATTEMPTS
    secret_key: str
    message_id_domain: str  # EMAIL_MESSAGE_ID_DOMAIN, "" when not set
    default_from_email: object  # DEFAULT_FROM_EMAIL as it is
    default_charset: str
    email_use_localtime: bool
    use_tz: bool


_kept: Kept | None = None


def kept() -> Kept:
    """The settings as they are now (read at the first call after a change)."""
    return _kept or _read()


def _read() -> Kept:
    global _kept
    _kept = Kept(
        languages=dict(settings.LANGUAGES),
        language_code=settings.LANGUAGE_CODE,
        max_attempts=settings.NOTIFICATIONS_MAX_ATTEMPTS,
        secret_key=settings.SECRET_KEY,
        message_id_domain=getattr(settings, "EMAIL_MESSAGE_ID_DOMAIN", ""),
        default_from_email=getattr(settings, "DEFAULT_FROM_EMAIL", ""),
        default_charset=settings.DEFAULT_CHARSET,
        email_use_localtime=settings.EMAIL_USE_LOCALTIME,
        use_tz=settings.USE_TZ,
    )
    return _kept


def forget(**kwargs) -> None:
    global _kept
    _kept = None


setting_changed.connect(forget, dispatch_uid="portal-notifications-kept-settings")
