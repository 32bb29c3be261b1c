"""The shops' API keys in the back office: read-only (a key is created where it can be shown once: the
API keys page or `create_api_key`), owners of the key's shop may revoke; the hash is never shown."""

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.admin.base import OWNER, ShopScopedAdmin
from customers.api_keys import api_key_revoke
from customers.forms import API_KEY_SCOPE_SHORT
from customers.models_keys import ApiKey

VIEW_AND_REVOKE = frozenset({"view", "revoke"})


@admin.action(description=_("Revoke selected keys"), permissions=["revoke"])
def revoke_selected(modeladmin, request, queryset):
    keys = list(queryset.filter(revoked_at=None))
    for key in keys:
        api_key_revoke(key=key)
    modeladmin.message_user(
        request, gettext("%(count)d key(s) revoked.") % {"count": len(keys)}, messages.SUCCESS
    )


@admin.register(ApiKey)
class ApiKeyAdmin(ShopScopedAdmin):
    # Owners only: staff do not see the shop's keys at all (they use the API with their session).
    role_permissions = {OWNER: VIEW_AND_REVOKE}
    superuser_permissions = VIEW_AND_REVOKE
    actions = [revoke_selected]
    list_display = [
        "name",
        "prefix_shown",
        "scope_shown",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["shop", "created_by"]
    search_fields = ["name", "prefix"]
    # key_hash is not among them: nothing that could help guess a key leaves the database.
    fields = [
        "shop",
        "name",
        "scope_shown",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("key starts with"), ordering="prefix")
    def prefix_shown(self, obj):
        return f"{obj.prefix}…"

    @admin.display(description=_("scope"), ordering="scope")
    def scope_shown(self, obj):
        return API_KEY_SCOPE_SHORT.get(obj.scope, obj.scope)

    def has_revoke_permission(self, request):
        return self.role_allows(request, "revoke")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked keys stay, so that their use can still be traced
