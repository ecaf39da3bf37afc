"""Small typed readers for settings taken from the environment.

Settings modules call these once; code reads ``django.conf.settings`` at call time.
"""

import os
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value


def env_required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} must be set.")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be a boolean (1/0, true/false), not {value!r}."
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}.")


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def email_settings_from_url(url: str) -> dict:
    """Translate ``smtp://user:pass@host:587?tls=1`` (or ``console://``) into Django settings."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme not in {"smtp", "smtps", "submission"}:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme {scheme!r} is not supported (smtp, smtps, console)."
        )
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    use_ssl = scheme == "smtps" or query.get("ssl", "").lower() in _TRUE
    use_tls = scheme == "submission" or query.get("tls", "").lower() in _TRUE
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname or "localhost",
        "EMAIL_PORT": parsed.port or (465 if use_ssl else 587 if use_tls else 25),
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
    }


def url_with_defaults(url: str, **params) -> str:
    """``url`` with query parameters added where it does not set them already, e.g.
    socket timeouts on a ``redis://`` URL (redis-py reads them from the query)."""
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    extra = {k: v for k, v in params.items() if k not in query}
    if not extra:
        return url
    addition = "&".join(f"{k}={v}" for k, v in extra.items())
    joined = f"{parsed.query}&{addition}" if parsed.query else addition
    return parsed._replace(query=joined).geturl()


def env_json(name: str, default):
    """A JSON value (single sign-on's provider list and role map); a malformed one
    stops the start with the variable's name rather than a traceback."""
    import json

    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be valid JSON ({exc}).") from None
