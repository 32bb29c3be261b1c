"""/api/v1/products/: the shop's products with their variants; create, change and delete with the write
scope, through catalog.services."""

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.response import Response

from catalog.api.serializers import ProductFilterSerializer, ProductSerializer, ProductWriteSerializer
from catalog.models import Product, Variant
from catalog.selectors import shop_products, variants_with_available
from catalog.services import product_delete, product_update, product_upsert
from coccinelle.api.errors import Conflict
from coccinelle.api.schema import error_responses
from coccinelle.api.views import ShopViewSet

VARIANT_EXAMPLE = {
    "id": 57,
    "url": "https://crm.example.com/api/v1/variants/57/",
    "product": 12,
    "sku": "ROB-PF-BLE-38",
    "size": "38",
    "color": "bleu",
    "price": "89.00",
    "stock": 2,
    "available": 2,
    "active": True,
    "external_source": "",
    "external_id": "",
    "created_at": "2026-11-30T15:04:00+01:00",
    "updated_at": "2026-12-01T10:12:00+01:00",
}
PRODUCT_EXAMPLE = {
    "id": 12,
    "url": "https://crm.example.com/api/v1/products/12/",
    "name": "Robe portefeuille",
    "category": "Robes",
    "description": "Robe portefeuille en viscose fluide, manches 3/4.",
    "active": True,
    "variants": [VARIANT_EXAMPLE],
    "created_at": "2026-11-30T15:04:00+01:00",
    "updated_at": "2026-12-01T10:12:00+01:00",
}
_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The product's id.")
_NAME_TAKEN = _("This shop already has a product of this name.")


@extend_schema_view(
    list=extend_schema(
        summary="List the shop's products",
        description="Newest first, by cursor (`next`, `previous`); `page_size` up to 200. Each product "
        "comes with its variants.",
        parameters=[ProductFilterSerializer],
        responses={200: ProductSerializer(many=True), **error_responses(400, 403, 404)},
        examples=[OpenApiExample("Page", value=PRODUCT_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One product with its variants",
        parameters=[_ID],
        responses={200: ProductSerializer, **error_responses(403, 404)},
        examples=[OpenApiExample("Product", value=PRODUCT_EXAMPLE, response_only=True)],
    ),
    destroy=extend_schema(
        summary="Delete a product and its variants",
        description="Write scope.",
        parameters=[_ID],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(403, 404)},
    ),
)
@extend_schema(tags=["catalogue"])
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ShopViewSet):
    serializer_class = ProductSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generation has no shop
            return Product.objects.none()
        params = {}
        if self.action == "list":
            filters = ProductFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            params = filters.validated_data
        variants = variants_with_available(Variant.objects.order_by("size", "color", "id"))
        return shop_products(
            shop=self.shop,
            search=params.get("search", ""),
            active=params.get("active"),
            in_stock=params.get("in_stock"),
        ).prefetch_related(Prefetch("variants", queryset=variants))

    def _conflict(self, name: str) -> Conflict:
        existing = self.get_queryset().filter(name=name).first()
        url = self.get_serializer(existing).data["url"] if existing else None
        return Conflict(_NAME_TAKEN, existing_url=url, fields={"name": [_NAME_TAKEN]})

    def _answer(self, product, code=status.HTTP_200_OK, **headers):
        return Response(
            self.get_serializer(self.get_queryset().get(pk=product.pk)).data, status=code, **headers
        )

    @extend_schema(
        summary="Create a product",
        description="Write scope. Its variants are added with `PUT /api/v1/variants/by-sku/{sku}/`. A name "
        "the shop already has is a 409 with that product's URL in `existing`.",
        request=ProductWriteSerializer,
        responses={201: ProductSerializer, **error_responses(400, 403, 409)},
        examples=[
            OpenApiExample(
                "A product",
                value={"name": "Robe portefeuille", "category": "Robes", "description": "En viscose."},
                request_only=True,
            ),
            OpenApiExample(
                "Created", value={**PRODUCT_EXAMPLE, "variants": []}, response_only=True, status_codes=["201"]
            ),
        ],
    )
    def create(self, request, *args, **kwargs):
        incoming = ProductWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        fields = dict(incoming.validated_data)
        name = fields.pop("name")
        with transaction.atomic():
            if Product.objects.filter(shop=self.shop, name=name).exists():
                raise self._conflict(name)
            product, created = product_upsert(shop=self.shop, name=name, fields=fields)
        if not created:  # a concurrent call made it first
            raise self._conflict(name)
        response = self._answer(product, status.HTTP_201_CREATED)
        response["Location"] = str(response.data["url"])
        return response

    @extend_schema(
        summary="Change a product",
        description="Write scope. Only the fields sent change; a name another product has is a 409.",
        parameters=[_ID],
        request=ProductWriteSerializer(partial=True),
        responses={200: ProductSerializer, **error_responses(400, 403, 404, 409)},
        examples=[
            OpenApiExample("Off sale", value={"active": False}, request_only=True),
            OpenApiExample("Product", value=PRODUCT_EXAMPLE, response_only=True),
        ],
    )
    def partial_update(self, request, *args, **kwargs):
        product = self.get_object()
        incoming = ProductWriteSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                product_update(product=product, fields=dict(incoming.validated_data))
        except IntegrityError:
            raise self._conflict(incoming.validated_data.get("name", "")) from None
        return self._answer(product)

    def destroy(self, request, *args, **kwargs):
        product_delete(product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
