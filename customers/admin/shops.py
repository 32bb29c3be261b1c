"""Shops and people: the shop with its numbers and members (owners), memberships, and the audit trail."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from customers.admin.base import ALL, OWNER, READ, STAFF, ScopedInline, ShopScopedAdmin, pretty_json
from customers.admin.forms import ShopForm
from customers.models import AuditEntry, ChannelAddress, Membership, Shop
from customers.services import SHOP_TEXT_LIMITS, membership_add


class ChannelAddressFormSet(BaseInlineFormSet):
    """Refuses one number typed twice in one save, in two spellings. Django's own duplicate check
    compares the values as typed; each row's clean() has normalised its address by now, so compare
    those (otherwise the database's constraint refuses the second row with a 500)."""

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or self._should_delete_form(form):
                continue
            key = (form.instance.provider, form.instance.address)
            if key in seen:
                raise ValidationError(f"{form.instance.address} is listed twice.")
            seen.add(key)


class ChannelAddressInline(ScopedInline, admin.TabularInline):
    model = ChannelAddress
    formset = ChannelAddressFormSet
    role_permissions = {OWNER: ALL, STAFF: READ}
    extra = 0


class MembershipInline(ScopedInline, admin.TabularInline):
    model = Membership
    role_permissions = {OWNER: ALL, STAFF: READ}
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def get_readonly_fields(self, request, obj=None):
        # The person of an existing membership is fixed; only the role changes.
        return self.readonly_fields


@admin.register(Shop)
class ShopAdmin(ShopScopedAdmin):
    shop_path = "pk"
    form = ShopForm
    text_limits = SHOP_TEXT_LIMITS
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    role_permissions = {OWNER: frozenset({"view", "change"}), STAFF: READ}
    list_display = ["name", "slug", "country", "language", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [ChannelAddressInline, MembershipInline]
    readonly_fields = ["created_at"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else [*fields, "slug"]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        for membership in formset.save(commit=False):
            if membership.pk is None:
                membership_add(shop=form.instance, user=membership.user, role=membership.role)
            else:
                membership.save(update_fields=["role"])
        for membership in formset.deleted_objects:
            membership.delete()


@admin.register(Membership)
class MembershipAdmin(ShopScopedAdmin):
    role_permissions = {OWNER: ALL, STAFF: READ}
    list_display = ["user", "shop", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "shop"]
    search_fields = ["user__username", "user__email"]
    _write_perm = "add"

    def get_readonly_fields(self, request, obj=None):
        fields = ["created_at"]
        return [*fields, "user", "shop"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        if not self._allowed_on(request, "change" if change else "add", obj):
            raise PermissionDenied("You cannot manage the people of a shop you do not own.")
        if change:
            obj.save(update_fields=["role"])
        else:
            obj.pk = membership_add(shop=obj.shop, user=obj.user, role=obj.role).pk


@admin.register(AuditEntry)
class AuditEntryAdmin(ShopScopedAdmin):
    role_permissions = {OWNER: READ, STAFF: READ}
    superuser_permissions = READ
    list_display = ["created_at", "action", "customer", "actor"]
    list_filter = ["action"]
    list_select_related = ["customer", "actor", "shop"]
    fields = ["created_at", "shop", "action", "customer", "actor", "details_pretty"]
    readonly_fields = ["details_pretty"]

    @admin.display(description=_("details"))
    def details_pretty(self, obj):
        return pretty_json(obj.details)
