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

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self):
        return self.get_display_name()

    def get_display_name(self) -> str:
        return self.display_name or self.get_full_name() or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.first_name or self.email.split("@")[0]


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
