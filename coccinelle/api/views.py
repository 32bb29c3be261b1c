"""What every resource's viewset starts from: the calling shop, and the scope its actions need."""

from rest_framework import viewsets

from coccinelle.api.authentication import ApiAccess


class ShopViewSetMixin:
    """`self.shop` is the shop the call acts on (its key's, or the session's current one); every
    queryset filters by it, so another shop's object is a 404 like one that does not exist.

    Set `owner_actions` to the action names that need the owner scope."""

    owner_actions: tuple[str, ...] = ()

    @property
    def shop(self):
        access = self.request.auth
        assert isinstance(access, ApiAccess), "ShopScope runs before any view code"
        return access.shop

    @property
    def actor(self):
        """The user recorded on changes (audit entries, notes' author), or None for a key with no creator."""
        user = self.request.user
        return user if user is not None and user.is_authenticated else None


class ShopViewSet(ShopViewSetMixin, viewsets.GenericViewSet):
    pass
