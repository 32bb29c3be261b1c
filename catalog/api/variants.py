"""/api/v1/variants/: the shop's variants (what has a SKU, a price and a stock); PATCH a count, a price or
the active flag; PUT /api/v1/variants/by-sku/{sku}/ for an e-shop pushing its variants by SKU
(idempotent: 201 when new, 200 after)."""

from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.api.products import VARIANT_EXAMPLE
from catalog.api.serializers import (
    SKU_MAX,
    VariantFilterSerializer,
    VariantPatchSerializer,
    VariantPushSerializer,
    VariantSerializer,
)
from catalog.models import Product, Variant
from catalog.selectors import shop_variants
from catalog.services import product_upsert, variant_update, variant_upsert_by_sku
from coccinelle.api.errors import Conflict
from coccinelle.api.schema import error_responses
from coccinelle.api.views import ShopViewSet

_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The variant's id.")
_SKU = OpenApiParameter("sku", OpenApiTypes.STR, OpenApiParameter.PATH, description="The shop's SKU.")
_EXTERNAL_TAKEN = _("Another variant of this shop has this external id.")


class _SkuPath(serializers.Serializer):
    # The path's SKU checked as a body's would be (length, no NUL character the database would refuse).
    sku = serializers.CharField(max_length=SKU_MAX)


@extend_schema_view(
    list=extend_schema(
        summary="List the shop's variants",
        description="Newest first, by cursor; `available` is what can still be sold.",
        parameters=[VariantFilterSerializer],
        responses={200: VariantSerializer(many=True), **error_responses(400, 403, 404)},
        examples=[OpenApiExample("Page", value=VARIANT_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One variant",
        parameters=[_ID],
        responses={200: VariantSerializer, **error_responses(403, 404)},
        examples=[OpenApiExample("Variant", value=VARIANT_EXAMPLE, response_only=True)],
    ),
)
@extend_schema(tags=["catalogue"])
class VariantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ShopViewSet):
    serializer_class = VariantSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generation has no shop
            return Variant.objects.none()
        variants = shop_variants(shop=self.shop)
        if self.action == "list":
            filters = VariantFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            params = filters.validated_data
            if params.get("product") is not None:
                variants = variants.filter(product_id=params["product"])
            if params.get("active") is not None:
                variants = variants.filter(active=params["active"])
            if params.get("in_stock") is not None:
                variants = (
                    variants.filter(available__gt=0) if params["in_stock"] else variants.filter(available=0)
                )
        return variants

    def get_object(self):
        if "sku" not in self.kwargs:
            return super().get_object()
        # The by-SKU route: DRF's answer to OPTIONS looks its variant up too.
        return get_object_or_404(self.get_queryset(), sku=self._sku())

    def _sku(self) -> str:
        path = _SkuPath(data={"sku": self.kwargs["sku"]})
        path.is_valid(raise_exception=True)
        return path.validated_data["sku"]

    def _answer(self, variant, code=status.HTTP_200_OK):
        body = self.get_serializer(self.get_queryset().get(pk=variant.pk)).data
        response = Response(body, status=code)
        if code == status.HTTP_201_CREATED:
            response["Location"] = str(body["url"])
        return response

    @extend_schema(
        summary="Change a variant's stock, price or active flag",
        description="Write scope. Only the fields sent change.",
        parameters=[_ID],
        request=VariantPatchSerializer,
        responses={200: VariantSerializer, **error_responses(400, 403, 404)},
        examples=[
            OpenApiExample("A new count", value={"stock": 3}, request_only=True),
            OpenApiExample("Variant", value=VARIANT_EXAMPLE, response_only=True),
        ],
    )
    def partial_update(self, request, *args, **kwargs):
        variant = self.get_object()
        incoming = VariantPatchSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        variant_update(variant=variant, fields=dict(incoming.validated_data))
        return self._answer(variant)

    @extend_schema(
        summary="Create or update a variant by its SKU (e-shop push)",
        description=(
            "Write scope. Idempotent: 201 when the SKU is new to the shop, 200 when it existed (updated "
            "to the fields sent; the others keep their values; the same push again changes nothing). A "
            "new SKU needs a `price` and its product: `product` (an id) or `product_name` (the shop's "
            "product of that name, created when absent). An `external_id` another variant of the shop "
            "has for that `external_source` is a 409."
        ),
        parameters=[_SKU],
        request=VariantPushSerializer,
        responses={200: VariantSerializer, 201: VariantSerializer, **error_responses(400, 403, 404, 409)},
        examples=[
            OpenApiExample(
                "From an e-shop",
                value={
                    "product_name": "Robe portefeuille",
                    "size": "38",
                    "color": "bleu",
                    "price": "89.00",
                    "stock": 2,
                    "external_source": "shopify",
                    "external_id": "44012345678901",
                },
                request_only=True,
            ),
            OpenApiExample("A new count", value={"stock": 1}, request_only=True),
            OpenApiExample("Variant", value=VARIANT_EXAMPLE, response_only=True, status_codes=["200", "201"]),
        ],
    )
    @action(detail=False, methods=["put"], url_path=r"by-sku/(?P<sku>[^/]+)", url_name="by-sku")
    def by_sku(self, request, sku=None):
        sku = self._sku()
        push = VariantPushSerializer(data=request.data)
        push.is_valid(raise_exception=True)
        fields = dict(push.validated_data)
        product_id, product_name = fields.pop("product", None), fields.pop("product_name", None)
        try:
            with transaction.atomic():  # a product made for a push that is refused goes with it
                if product_id is not None:
                    fields["product"] = self._product(product_id)
                elif product_name:
                    fields["product"] = product_upsert(shop=self.shop, name=product_name)[0]
                if not Variant.objects.filter(shop=self.shop, sku=sku).exists():
                    self._check_new(fields)
                variant, created = variant_upsert_by_sku(shop=self.shop, sku=sku, fields=fields)
        except IntegrityError:
            raise Conflict(_EXTERNAL_TAKEN, fields={"external_id": [_EXTERNAL_TAKEN]}) from None
        return self._answer(variant, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def _product(self, product_id: int) -> Product:
        product = Product.objects.filter(shop=self.shop, pk=product_id).first()
        if product is None:  # another shop's product is no product, as everywhere in the API
            raise exceptions.ValidationError({"product": [_("No such product.")]})
        return product

    @staticmethod
    def _check_new(fields: dict) -> None:
        missing = {}
        if "product" not in fields:
            missing["product"] = [_("A new SKU needs its product: `product` (an id) or `product_name`.")]
        if "price" not in fields:
            missing["price"] = [_("A new SKU needs a price.")]
        if missing:
            raise exceptions.ValidationError(missing)
