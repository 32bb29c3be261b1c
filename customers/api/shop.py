"""GET /api/v1/shop/: the calling shop's settings; PATCH (owner scope) edits them with the settings
page's own form and service."""

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.response import Response

from coccinelle.api.forms import form_changes
from coccinelle.api.schema import error_responses
from coccinelle.api.views import ShopViewSet
from customers.forms import ShopSettingsForm
from customers.models import Shop
from customers.services import SHOP_SETTINGS_FIELDS, shop_update


class ShopSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shop
        fields = ["slug", "country", *SHOP_SETTINGS_FIELDS, "created_at"]
        read_only_fields = ["slug", "country", "created_at"]


@extend_schema_view(retrieve=extend_schema(responses={200: ShopSerializer, **error_responses(403)}))
@extend_schema(tags=["shop"])
class ShopViewSet(mixins.RetrieveModelMixin, ShopViewSet):
    serializer_class = ShopSerializer
    owner_actions = ("partial_update",)

    def get_object(self):
        return self.shop

    @extend_schema(request=ShopSerializer, responses={200: ShopSerializer, **error_responses(400, 403)})
    def partial_update(self, request, *args, **kwargs):
        shop = self.get_object()
        changes = form_changes(ShopSettingsForm, instance=shop, data=request.data, partial=True)
        with transaction.atomic():
            shop_update(shop=shop, fields=changes)
        return Response(ShopSerializer(shop).data)
