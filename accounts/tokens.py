"""API tokens for integrators: creation and bearer authentication.

The secret is ``<prefix>.<random>``; only its SHA-256 is stored. A hash of a 256-bit random
secret needs no salt or slow hashing, and lets us compare in constant time.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.sql import KeptStatement, built_from_columns, columns_of

from . import events, roles
from .models import ApiToken

TOKEN_SCHEME = "hdp"  # noqa: S105 - a public prefix, not a secret
VALID_SCOPES = {ApiToken.Scope.READ.value, ApiToken.Scope.WRITE.value}


class TokenError(ValueError):
    pass


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(value) -> list[str]:
    scopes = [value] if isinstance(value, str) else list(value)
    scopes = sorted(
        {part.strip() for item in scopes for part in item.split(",") if part.strip()}
    )
    unknown = set(scopes) - VALID_SCOPES
    if not scopes or unknown:
        raise TokenError(
            _("Scopes must be among read, write (got %(unknown)s).")
            % {"unknown": ", ".join(sorted(unknown)) or _("none")}
        )
    return scopes


def create_token(
    owner, *, name: str, scopes, expires_days: int | None = None, request=None
) -> NewToken:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise TokenError(_("A token needs a name of 1 to 100 characters."))
    if expires_days is not None and expires_days <= 0:
        raise TokenError(_("Expiry must be a positive number of days."))
    scope_list = parse_scopes(scopes)
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_SCHEME}_{prefix}.{secrets.token_urlsafe(32)}"
    expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
    with transaction.atomic():
        token = ApiToken.objects.create(
            owner=owner,
            name=name,
            prefix=prefix,
            secret_hash=_hash(secret),
            scopes=scope_list,
            expires_at=expires_at,
        )
        events.record(
            events.Kind.TOKEN_CREATED,
            user=owner,
            request=request,
            token=token.pk,
            prefix=prefix,
            name=name,
            scopes=scope_list,
        )
    return NewToken(token=token, secret=secret)


def _usable(token: ApiToken) -> bool:
    return token.is_active and token.owner.is_active and token.owner.locked_at is None


def still_valid(token_id: int) -> bool:
    """Whether the token still authenticates: not revoked, not expired, its owner
    active and not locked. Long-lived connections (GraphQL subscriptions) ask this
    at every heartbeat."""
    token = ApiToken.objects.select_related("owner").filter(pk=token_id).first()
    return token is not None and _usable(token)


def _owner_by_prefix(prefix):
    # A token's owner with the token's columns: the owner is a whole user (the
    # request's user), read in the same statement, their roles too (every permission
    # check of the request reads them: ``roles.group_names``).
    return roles.annotate_role_names(
        get_user_model()
        .objects.filter(portal_api_tokens__prefix=prefix)
        .annotate(**columns_of(ApiToken, "portal_api_tokens", "_token_"))
        .order_by()
    )


#: Every request with a bearer token reads it: compiled once per process, prepared
#: on the server once per connection (a read by a unique key: one plan fits all)
_BY_PREFIX = KeptStatement(_owner_by_prefix, ("prefix",), prepare=True)


def _token_with_owner(prefix: str) -> ApiToken | None:
    """The token of ``prefix`` (unique) with its owner and the owner's roles, in one
    statement; None when there is none."""
    found = _BY_PREFIX.instances(prefix=prefix)
    if not found:
        return None
    (owner,) = roles.remembered(found)
    token = built_from_columns(owner, ApiToken, "_token_")
    token.owner = owner
    return token


def authenticate_bearer(secret: str) -> ApiToken | None:
    """The active token for this secret, or None (unknown, forged, expired, revoked,
    inactive owner). Records ``last_used_at`` at most once a minute."""
    if not secret or not secret.startswith(f"{TOKEN_SCHEME}_") or "." not in secret:
        return None
    prefix = secret[len(TOKEN_SCHEME) + 1 :].split(".", 1)[0]
    token = _token_with_owner(prefix)
    if token is None:
        _hash(secret)  # same work either way
        return None
    if not hmac.compare_digest(token.secret_hash, _hash(secret)):
        return None
    if not _usable(token):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def authenticate_authorization(header: str | None) -> ApiToken | None:
    """The token an ``Authorization`` header carries; None when there is no header.

    A header that is present but not ``Bearer <valid secret>`` raises ``TokenError``
    rather than returning None, so that a caller who meant to use a token is refused
    (401) instead of silently falling back to the session."""
    if header is None:
        return None
    scheme, _sep, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise TokenError(
            _("Malformed Authorization header: use 'Authorization: Bearer <token>'.")
        )
    token = authenticate_bearer(secret.strip())
    if token is None:
        raise TokenError(_("Invalid, expired or revoked API token."))
    return token


@transaction.atomic
def revoke_token(owner, token_id, *, request=None) -> bool:
    """Revoke one of the owner's tokens; False when there is no such token of theirs."""
    try:
        token_id = int(token_id)
    except (TypeError, ValueError):
        return False
    updated = ApiToken.objects.filter(
        pk=token_id, owner=owner, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    if updated:
        events.record(
            events.Kind.TOKEN_REVOKED, user=owner, request=request, token=token_id
        )
    return bool(updated)
