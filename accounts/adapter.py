"""allauth hooks: new sign-ups become customers, locked accounts cannot sign in."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.stagekit import clear_login
from django.template.response import TemplateResponse

from . import events, services
from .directory import is_directory_account


class AccountAdapter(DefaultAccountAdapter):
    # allauth's own emails (verification codes and links, password reset links, login
    # codes, "account already exists") keep allauth's synchronous ``send_mail`` on
    # purpose, outside the notification outbox that every other email goes through:
    # each carries a one-time secret that the outbox would keep at rest (its JSON
    # context stays in the table until purged and is listed in the admin), and the
    # person is waiting on the page for it; a lost one is asked for again with the
    # page's "send again", under allauth's rate limits.
    # tests/reliability/test_one_mail_path.py guards the rest.

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        if commit:
            services.register_customer(user)
        return user

    def get_login_redirect_url(self, request):
        """Staff land in the admin (the desk's dashboard for agents), customers in the
        portal; an explicit ``next`` still wins (allauth applies it first)."""
        if request.user.has_perm("wagtailadmin.access_admin"):
            return "/admin/"
        return super().get_login_redirect_url(request)

    def pre_login(self, request, user, **kwargs):
        """Refuse locked accounts after the password was checked (so the message tells
        nothing to someone who does not know the password)."""
        if getattr(user, "locked_at", None) is not None:
            clear_login(request)
            events.record(
                events.Kind.LOGIN_FAILED, user=user, request=request, reason="locked"
            )
            return TemplateResponse(
                request,
                "account/account_locked.html",
                {"locked_user": user},
                status=403,
            )
        return super().pre_login(request, user, **kwargs)

    def send_password_reset_mail(self, user, email, context):
        """A directory account gets no reset link (``accounts.directory``)."""
        if is_directory_account(user):
            return None
        return super().send_password_reset_mail(user, email, context)

    def get_login_stages(self):
        """allauth.mfa's second-factor step, in the version that lets a trusted SSO
        provider's own second factor count (accounts.sso)."""
        return [
            "accounts.sso.AuthenticateStage"
            if path == "allauth.mfa.stages.AuthenticateStage"
            else path
            for path in super().get_login_stages()
        ]
