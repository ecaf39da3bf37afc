"""The security audit: one function writes every event, so IP and user agent are read
the same way everywhere."""

import getpass
import ipaddress
import socket

from django.conf import settings

from .models import SecurityEvent

Kind = SecurityEvent.Kind


def _valid_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or the nearest ``X-Forwarded-For`` hop when
    ``ACCOUNTS_TRUSTED_PROXY_COUNT`` says that many proxies sit in front of us."""
    if request is None:
        return None
    proxies = getattr(settings, "ACCOUNTS_TRUSTED_PROXY_COUNT", 0)
    if proxies:
        hops = [
            h.strip()
            for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if h.strip()
        ]
        if len(hops) >= proxies:
            return _valid_ip(hops[-proxies])
    return _valid_ip(request.META.get("REMOTE_ADDR"))


def record(kind: str, *, user=None, request=None, actor=None, **data) -> SecurityEvent:
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:512] if request else ""
    if user is not None and not getattr(user, "pk", None):
        user = None
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        actor=actor if actor is not None and actor != user else None,
        ip=client_ip(request),
        user_agent=user_agent,
        data=data,
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (containers)
        return ""


def record_command(kind: str, **data) -> SecurityEvent:
    """An event from a management command (encryption runs, key rotations): there is
    no request, so the host and the operating-system user that ran it stand for the
    IP address and user agent."""
    return record(kind, host=socket.gethostname(), os_user=_os_user(), **data)
