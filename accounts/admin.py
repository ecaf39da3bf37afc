from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from . import services
from .models import ApiToken, Invitation, Membership, Organization, SecurityEvent, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "display_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "display_name", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Profile"),
            {
                "fields": (
                    "display_name",
                    "first_name",
                    "last_name",
                    "locale",
                    "time_zone",
                )
            },
        ),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (
            _("Approval and lock"),
            {
                "fields": (
                    "approval_status",
                    "approval_note",
                    "approved_by",
                    "approved_at",
                    "locked_at",
                    "lock_reason",
                ),
                "description": _(
                    "Read-only here: approve, reject, lock and unlock in the Wagtail "
                    "admin (Account approvals), which records and emails each change."
                ),
            },
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = [
        "approval_status",
        "approval_note",
        "approved_by",
        "approved_at",
        "locked_at",
        "lock_reason",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "approval_status", "groups"]
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),
    )


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "ticket_sharing"]
    search_fields = ["name", "slug", "website", "industry"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["account_manager"]
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        """Sharing and membership go through the services, which check the acting
        person, audit the change and keep the ticket grants and the organization's
        permission group in step. A refused change leaves the organization as it was
        (the whole admin save is one transaction)."""
        sharing = obj.ticket_sharing
        if change and "ticket_sharing" in form.changed_data:
            obj.ticket_sharing = form.initial["ticket_sharing"]
        super().save_model(request, obj, form, change)
        services.ensure_organization_group(obj)
        if change and "ticket_sharing" in form.changed_data:
            services.change_ticket_sharing(obj, sharing, by=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        by = request.user
        organization = form.instance
        memberships = formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.remove_member(organization, membership.user, by=by)
        for membership in memberships:
            if membership.pk is None:
                services.add_member(
                    organization, membership.user, role=membership.role, by=by
                )
                continue
            before = Membership.objects.get(pk=membership.pk)
            if before.user_id != membership.user_id:
                services.remove_member(organization, before.user, by=by)
                services.add_member(
                    organization, membership.user, role=membership.role, by=by
                )
            else:
                services.change_role(
                    organization, membership.user, role=membership.role, by=by
                )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "prefix",
        "scopes",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["prefix", "secret_hash", "last_used_at"]
    search_fields = ["name", "owner__email", "prefix"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "expires_at", "accepted_at"]
    list_select_related = ["organization"]
    search_fields = ["email", "organization__name"]
    readonly_fields = ["token", "invited_by", "accepted_at", "accepted_by"]


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """The audit is append-only: nobody edits or deletes it from the admin."""

    list_display = ["created_at", "kind", "user", "actor", "ip", "user_agent"]
    list_filter = ["kind"]
    list_select_related = ["user", "actor"]
    search_fields = ["user__email", "ip"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
