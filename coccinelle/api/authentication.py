"""Who is calling: an API key (`Authorization: Bearer coc_…`) or a signed-in user's session.

Both end with `request.auth` saying which shop the call acts on and with what scope (ApiAccess), so
that permissions and views never look at how the caller signed in. A key sees exactly its own shop; a
session sees the dashboard's current shop, with the scope of the user's role there.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from customers.access import SESSION_SHOP_KEY
from customers.api_keys import api_key_authenticate
from customers.models import Membership, Shop
from customers.models_keys import ApiKey
from customers.selectors import role_in_shop, shops_for_user


@dataclass(frozen=True)
class ApiAccess:
    shop: Shop
    scope: str  # ApiKey.Scope
    key: ApiKey | None = None  # None for a session


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None  # not ours: the session may still authenticate the call
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the key as: Authorization: Bearer <key>."))
        key = api_key_authenticate(header[1])
        if key is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
        # The key acts for its shop, not as a person: the user recorded on what it changes is whoever
        # created it (kept in audit entries), or nobody if they are gone.
        user = key.created_by if key.created_by_id else AnonymousUser()
        return user, ApiAccess(shop=key.shop, scope=key.scope, key=key)

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class ShopSessionAuthentication(authentication.SessionAuthentication):
    """The pages' session (CSRF enforced by DRF for unsafe methods), on the dashboard's current shop."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _auth = result
        shops = list(shops_for_user(user).order_by("name", "pk"))
        if not shops:
            raise exceptions.PermissionDenied(_("You are not a member of any shop."))
        wanted = request._request.session.get(SESSION_SHOP_KEY)
        shop = next((s for s in shops if s.pk == wanted), shops[0])
        role = role_in_shop(user, shop.pk)
        scope = ApiKey.Scope.OWNER if role == Membership.Role.OWNER else ApiKey.Scope.WRITE
        return user, ApiAccess(shop=shop, scope=scope)
