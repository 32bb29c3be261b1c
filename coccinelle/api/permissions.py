"""The scope a call needs: read for safe methods, write otherwise, owner where a view says so.

Views name what needs more than the default in `owner_actions` (viewset action names, e.g. "destroy",
"export", "merge"), so that the rule is visible where the action is written.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions

from coccinelle.api.authentication import ApiAccess
from customers.api_keys import scope_allows
from customers.models_keys import ApiKey


def needed_scope(request, view) -> str:
    if getattr(view, "action", None) in getattr(view, "owner_actions", ()):
        return ApiKey.Scope.OWNER
    if request.method in permissions.SAFE_METHODS:
        return ApiKey.Scope.READ
    return ApiKey.Scope.WRITE


class ShopScope(permissions.BasePermission):
    def has_permission(self, request, view):
        access = request.auth
        if not isinstance(access, ApiAccess):
            raise exceptions.NotAuthenticated()
        needed = needed_scope(request, view)
        if not scope_allows(access.scope, needed):
            raise exceptions.PermissionDenied(
                _("This needs the %(needed)s scope; this key has %(scope)s.")
                % {"needed": needed, "scope": access.scope}
            )
        return True
