"""Single sign-on through OpenID Connect (allauth's ``openid_connect`` provider).

Providers come from ``OIDC_PROVIDERS`` (see ``portal/settings/base.py`` and
docs/security.md). This module adds our rules to allauth's flow:

- an existing account is reached only through a verified email address (allauth's
  email authentication ignores unverified claims; we also record the refusal);
- roles named in ``OIDC_ROLE_MAP`` follow the ``OIDC_ROLE_CLAIM`` claim at every SSO
  sign-in: a mapped role is added when the claim carries it and removed when it no
  longer does (roles outside the map are left alone, superusers are never made);
- staff still meet our second factor (allauth.mfa's stage, ``MFA_REQUIRED_FOR_STAFF``)
  unless the provider entry says ``"trust_mfa": true`` *and* this sign-in's ID token
  reports a multi-factor sign-in in ``amr`` or ``acr``;
- sign-ins and refused callbacks (bad state, failed token exchange, an ID token
  failing its signature, nonce, issuer, audience or time checks in
  ``accounts.oidc_tokens``, provider errors) are security events.
"""

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.stages import AuthenticateStage as MFAAuthenticateStage
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import checks

from . import events, roles, services

PROVIDER = "openid_connect"
SESSION_KEY = "accounts_sso_mfa"
# RFC 8176 methods that are a second factor by themselves, or say so ("mfa").
MFA_AMR_VALUES = {"mfa", "otp", "hwk", "sc"}


# --- configuration ---------------------------------------------------------------------


@checks.register(checks.Tags.security)
def check_providers(app_configs=None, **kwargs):
    """Start-up check of ``OIDC_PROVIDERS`` and ``OIDC_ROLE_MAP``."""
    errors = []
    providers = getattr(settings, "OIDC_PROVIDERS", [])
    if not isinstance(providers, list):
        return [checks.Error("OIDC_PROVIDERS must be a JSON list.", id="accounts.E101")]
    seen = set()
    for index, entry in enumerate(providers):
        if not isinstance(entry, dict):
            errors.append(
                checks.Error(
                    f"OIDC_PROVIDERS[{index}] must be an object.", id="accounts.E102"
                )
            )
            continue
        for key in ("id", "server_url", "client_id"):
            if not isinstance(entry.get(key), str) or not entry.get(key):
                errors.append(
                    checks.Error(
                        f"OIDC_PROVIDERS[{index}] needs a non-empty {key!r}.",
                        id="accounts.E103",
                    )
                )
        if entry.get("id") in seen:
            errors.append(
                checks.Error(
                    f"OIDC_PROVIDERS[{index}]: the id {entry.get('id')!r} is repeated.",
                    id="accounts.E104",
                )
            )
        seen.add(entry.get("id"))
    if providers and not _provider_class_is_ours():
        errors.append(
            checks.Error(
                "SOCIALACCOUNT_PROVIDERS['openid_connect']['provider_class'] must be "
                "accounts.oidc_tokens.Provider (nonce and ID token signature checks).",
                id="accounts.E106",
            )
        )
    role_map = getattr(settings, "OIDC_ROLE_MAP", {})
    if not isinstance(role_map, dict) or not all(
        isinstance(value, str) and value in roles.ALL_ROLES
        for value in role_map.values()
    ):
        errors.append(
            checks.Error(
                "OIDC_ROLE_MAP must map claim values to roles among "
                f"{', '.join(roles.ALL_ROLES)}.",
                id="accounts.E105",
            )
        )
    return errors


def _provider_class_is_ours() -> bool:
    from allauth.socialaccount.providers import registry

    from .oidc_tokens import Provider

    registry.load()
    return registry.get_class(PROVIDER) is Provider


def _app_settings(request, sociallogin: SocialLogin) -> dict:
    """The provider entry's settings (``server_url``, ``trust_mfa`` …)."""
    provider = sociallogin.account.get_provider(request)
    return getattr(getattr(provider, "app", None), "settings", None) or {}


def _claims(sociallogin: SocialLogin) -> tuple[dict, dict]:
    """(ID token claims, userinfo claims) of this sign-in."""
    data = sociallogin.account.extra_data or {}
    return data.get("id_token") or {}, data.get("userinfo") or {}


# --- roles -----------------------------------------------------------------------------


def mapped_roles(sociallogin: SocialLogin) -> set[str]:
    """The roles the role claim grants (userinfo first, then the ID token)."""
    role_map = getattr(settings, "OIDC_ROLE_MAP", {}) or {}
    claim = getattr(settings, "OIDC_ROLE_CLAIM", "groups")
    id_token, userinfo = _claims(sociallogin)
    values = userinfo.get(claim, id_token.get(claim, []))
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        values = []
    return {role_map[v] for v in values if isinstance(v, str) and v in role_map}


def apply_roles(request, user, sociallogin: SocialLogin) -> None:
    """Set the mapped roles from the claim; roles outside the map are untouched."""
    role_map = getattr(settings, "OIDC_ROLE_MAP", {}) or {}
    managed = set(role_map.values())
    if not managed or user.pk is None:
        return
    wanted = mapped_roles(sociallogin)
    current = set(user.groups.filter(name__in=managed).values_list("name", flat=True))
    added, removed = wanted - current, current - wanted
    if added:
        user.groups.add(*Group.objects.filter(name__in=added))
    if removed:
        user.groups.remove(*Group.objects.filter(name__in=removed))
    if added or removed:
        user.__dict__.pop("_role_names_cache", None)
        events.record(
            events.Kind.ROLE_CHANGED,
            user=user,
            request=request,
            method="oidc",
            provider=sociallogin.account.provider,
            added=sorted(added),
            removed=sorted(removed),
        )


# --- second factor ---------------------------------------------------------------------


def claims_report_mfa(id_token: dict) -> bool:
    amr = id_token.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    if isinstance(amr, list) and MFA_AMR_VALUES & {
        a for a in amr if isinstance(a, str)
    }:
        return True
    acr = id_token.get("acr")
    return isinstance(acr, str) and acr in getattr(settings, "OIDC_MFA_ACR_VALUES", [])


def _remember_provider_mfa(request, sociallogin: SocialLogin) -> None:
    """Note in the session that this sign-in's provider did the second factor, for
    this user and this provider account only; anything else clears the note."""
    request.session.pop(SESSION_KEY, None)
    if sociallogin.user is None or sociallogin.user.pk is None:
        return
    id_token, _userinfo = _claims(sociallogin)
    if _app_settings(request, sociallogin).get(
        "trust_mfa"
    ) is True and claims_report_mfa(id_token):
        request.session[SESSION_KEY] = {
            "user": str(sociallogin.user.pk),
            "provider": sociallogin.account.provider,
            "uid": sociallogin.account.uid,
        }


def provider_mfa_satisfied(request, user) -> bool:
    """True when this session's latest sign-in step for ``user`` was an SSO sign-in
    whose (trusted) provider reported a multi-factor authentication."""
    note = getattr(request, "session", {}).get(SESSION_KEY)
    if not note or note.get("user") != str(user.pk):
        return False
    records = get_authentication_records(request, user)
    steps = [r for r in records if r.get("method") != "mfa"]
    if not steps:
        return False
    last = steps[-1]
    return (
        last.get("method") == "socialaccount"
        and last.get("provider") == note.get("provider")
        and last.get("uid") == note.get("uid")
    )


class AuthenticateStage(MFAAuthenticateStage):
    """allauth.mfa's second-factor step, skipped only when a trusted provider did it."""

    def _should_handle(self, request) -> bool:
        if self.login.user is not None and provider_mfa_satisfied(
            request, self.login.user
        ):
            return False
        return super()._should_handle(request)


# --- audit -----------------------------------------------------------------------------


def login_event_data(request, user) -> dict:
    """Extra data for the LOGIN security event when the sign-in came through SSO."""
    if request is None or not hasattr(request, "session"):
        return {}
    steps = [
        r for r in get_authentication_records(request, user) if r.get("method") != "mfa"
    ]
    if not steps or steps[-1].get("method") != "socialaccount":
        return {}
    data = {"method": "oidc", "provider": steps[-1].get("provider")}
    if provider_mfa_satisfied(request, user):
        data["mfa"] = "provider"
    return data


# --- allauth adapter -------------------------------------------------------------------


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request, sociallogin):
        if sociallogin.is_existing:
            apply_roles(request, sociallogin.user, sociallogin)
        else:
            self._record_unverified_match(request, sociallogin)
        _remember_provider_mfa(request, sociallogin)
        return super().pre_social_login(request, sociallogin)

    def _record_unverified_match(self, request, sociallogin):
        """An email claim the provider has not verified never reaches an existing
        account: allauth goes on to its sign-up form; the attempt is recorded."""
        from allauth.account.utils import filter_users_by_email

        for address in sociallogin.email_addresses:
            if address.verified:
                continue
            users = filter_users_by_email(address.email)
            if users:
                events.record(
                    events.Kind.LOGIN_FAILED,
                    user=users[0],
                    request=request,
                    method="oidc",
                    provider=sociallogin.account.provider,
                    reason="unverified_email",
                )

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        apply_roles(request, user, sociallogin)
        if not roles.has_role(user, *roles.ALL_ROLES):
            services.register_customer(user)
        _remember_provider_mfa(request, sociallogin)
        return user

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        """A refused callback (unknown or replayed state, a code the provider rejects,
        a token that fails its checks, an error from the provider): a security event;
        allauth then answers with its "sign-in failed" page (401), never a 5xx."""
        extra_context = extra_context or {}
        if extra_context.get("state") is None and "state_id" in extra_context:
            reason = "bad_state"
        elif getattr(exception, "reason", None):
            # an ID token refused by accounts.oidc_tokens (bad_nonce, bad_signature …)
            reason = exception.reason
        elif exception is not None:
            reason = "invalid_response"
        else:
            reason = str(error or "unknown")
        events.record(
            events.Kind.LOGIN_FAILED,
            request=request,
            method="oidc",
            provider=getattr(provider, "sub_id", None) or getattr(provider, "id", None),
            reason=reason,
            detail=str(exception)[:200] if exception else "",
        )
