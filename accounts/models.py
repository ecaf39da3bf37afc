"""People and the organizations they belong to.

The user model is email-first (no username). Organizations group customers; a user may
belong to several. Each organization owns a Django group that mirrors its membership, so
that object permissions (django-guardian) can be granted to "everyone in Acme" at once.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager, Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("The email address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class User(AbstractUser):
    """A person who signs in with their email address."""

    username = None
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    locale = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES, default=""
    )
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    notify_on_reply = models.BooleanField(_("email me about replies"), default=True)
    notify_on_status = models.BooleanField(
        _("email me about status changes"), default=True
    )
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    lock_reason = models.TextField(_("reason for the lock"), blank=True, default="")
    approval_status = models.CharField(
        _("approval status"),
        max_length=20,
        choices=ApprovalStatus.choices,
        default=ApprovalStatus.APPROVED,
        db_index=True,
    )
    approval_note = models.TextField(_("approval note"), blank=True, default="")
    approved_by = models.ForeignKey(
        "self",
        verbose_name=_("approved or rejected by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(
        _("approved or rejected at"), null=True, blank=True
    )
    # What the desk's contact list shows about a customer (issue 21's CRM).
    job_title = models.CharField(_("job title"), max_length=150, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=50, blank=True, default="")
    notes = models.TextField(_("notes"), blank=True, default="")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        permissions = [
            ("review_accounts", _("Can approve, reject, lock and unlock accounts")),
        ]

    def __str__(self):
        return self.get_display_name()

    def get_display_name(self) -> str:
        return self.display_name or self.get_full_name() or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.first_name or self.email.split("@")[0]

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class TicketSharing(models.TextChoices):
    NONE = "none", _("Not shared")
    READ = "read", _("Members can read each other's tickets")
    READ_WRITE = "read_write", _("Members can read and answer each other's tickets")


class Organization(models.Model):
    """A customer company. Its members may see each other's tickets per ``ticket_sharing``."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    email_domains = models.JSONField(
        _("verified email domains"),
        default=list,
        blank=True,
        help_text=_(
            "Users whose verified email is at one of these domains join automatically."
        ),
    )
    ticket_sharing = models.CharField(
        _("ticket sharing"),
        max_length=20,
        choices=TicketSharing.choices,
        default=TicketSharing.NONE,
    )
    group = models.OneToOneField(
        Group,
        verbose_name=_("permission group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="organization",
        help_text=_(
            "Mirrors the membership; object permissions for sharing are granted to it."
        ),
    )
    # The customer record the desk's Organization 360 shows and edits.
    website = models.URLField(_("website"), max_length=300, blank=True, default="")
    industry = models.CharField(_("industry"), max_length=100, blank=True, default="")
    address = models.TextField(_("address"), blank=True, default="")
    phone = models.CharField(_("phone"), max_length=50, blank=True, default="")
    notes = models.TextField(_("notes"), blank=True, default="")
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_organizations",
        help_text=_("The staff member who looks after this customer."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        MANAGER = "manager", _("Manager")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.MEMBER
    )
    created_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="unique_membership"
            ),
        ]

    def __str__(self):
        return f"{self.user} in {self.organization} ({self.role})"


class ApiToken(models.Model):
    """A bearer token for integrators. Only a hash of the secret is stored; the secret is
    shown once, when the token is made."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Write")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="portal_api_tokens",
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, db_index=True)
    secret_hash = models.CharField(_("hash of the secret"), max_length=128)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > now
        )

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class SecurityEvent(models.Model):
    """One line of the security audit: who signed in, failed, changed a password or a
    second factor, and what staff did to an account. Kept even when the user is deleted,
    so a rejection or a lock stays on record."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("Signed in")
        LOGOUT = "logout", _("Signed out")
        LOGIN_FAILED = "login_failed", _("Sign-in failed")
        MFA_ENABLED = "mfa_enabled", _("Second factor added")
        MFA_DISABLED = "mfa_disabled", _("Second factor removed")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_RESET = "password_reset", _("Password reset")
        APPROVED = "approved", _("Account approved")
        REJECTED = "rejected", _("Account rejected")
        LOCKED = "locked", _("Account locked")
        UNLOCKED = "unlocked", _("Account unlocked")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        MEMBER_ADDED = "member_added", _("Added to an organization")
        MEMBER_REMOVED = "member_removed", _("Removed from an organization")
        ROLE_CHANGED = "role_changed", _("Organization role changed")
        SHARING_CHANGED = "sharing_changed", _("Organization ticket sharing changed")
        ATTACHMENT_TAMPERED = (
            "attachment_tampered",
            _("Attachment refused: failed its integrity check"),
        )
        ATTACHMENTS_ENCRYPTED = (
            "attachments_encrypted",
            _("Stored attachments encrypted"),
        )
        KEYS_ROTATED = "keys_rotated", _("Encryption keys rotated")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="security_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The staff member who acted, when not the user themself."),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.user or '-'} · {self.created_at:%Y-%m-%d %H:%M}"


class Invitation(models.Model):
    """A manager's invitation for an email address to join an organization. Accepting it
    needs an account whose verified email is that address."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    email = models.EmailField(_("email address"))
    role = models.CharField(
        _("role"),
        max_length=20,
        choices=Membership.Role.choices,
        default=Membership.Role.MEMBER,
    )
    token = models.CharField(_("token"), max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} → {self.organization}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()
