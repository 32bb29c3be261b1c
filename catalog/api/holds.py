"""/api/v1/holds/: the shop's holds (units of a variant set aside for a customer). Create with write
scope (409 `out_of_stock` when the units are not available); extend, release and convert are actions.
Every write calls catalog.holds, as the pages and the admin do."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.api.serializers import MAX_ID, SKU_MAX
from catalog.holds import HoldRefused, hold_convert, hold_create, hold_extend, hold_release
from catalog.models import Hold, Variant
from coccinelle.api.schema import error_example, error_response, error_responses
from coccinelle.api.views import ShopViewSet
from customers.models import Customer

MAX_QUANTITY = 1000  # a boutique sets aside a few units; the bound keeps the integer in range
MAX_HOURS = 24 * 30

_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The hold's id.")
HOLD_EXAMPLE = {
    "id": 12,
    "url": "https://crm.example.com/api/v1/holds/12/",
    "customer": 42,
    "variant": 7,
    "sku": "RB-38-BLEU",
    "quantity": 1,
    "state": "active",
    "expires_at": "2026-12-02T10:20:41+01:00",
    "reminder_sent_at": None,
    "order": None,
    "created_at": "2026-12-01T10:20:41+01:00",
    "updated_at": "2026-12-01T10:20:41+01:00",
}


class HoldRefusedError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "hold_refused"


class HoldSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-hold-detail")
    customer = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The customer's id.")
    variant = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The variant's id.")
    sku = serializers.CharField(source="variant.sku", read_only=True)
    order = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The order a conversion made (null until then)."
    )

    class Meta:
        model = Hold
        fields = [
            "id",
            "url",
            "customer",
            "variant",
            "sku",
            "quantity",
            "state",
            "expires_at",
            "reminder_sent_at",
            "order",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class HoldFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Hold.State.choices, required=False)
    customer = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    variant = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class HoldCreateSerializer(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The customer's id.")
    variant = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="The variant's id (or `sku`)."
    )
    sku = serializers.CharField(
        required=False, max_length=SKU_MAX, help_text="The variant's SKU (or `variant`)."
    )
    quantity = serializers.IntegerField(required=False, default=1, min_value=1, max_value=MAX_QUANTITY)

    def validate(self, attrs):
        if ("variant" in attrs) == ("sku" in attrs):
            raise serializers.ValidationError({"variant": [_("Send either `variant` (an id) or `sku`.")]})
        return attrs


class HoldExtendSerializer(serializers.Serializer):
    hours = serializers.IntegerField(required=False, default=24, min_value=1, max_value=MAX_HOURS)


_REFUSED = error_response(
    409,
    "Refused: `error` says why.",
    [
        error_example(
            409, "out_of_stock", "Not enough units of this variant are available.", name="Out of stock"
        ),
        error_example(409, "not_active", "This hold is no longer active.", name="Not active"),
    ],
)


@extend_schema_view(
    list=extend_schema(
        summary="List the shop's holds",
        description="Newest first, by cursor; filter by `state`, `customer` or `variant`.",
        parameters=[HoldFilterSerializer],
        responses={200: HoldSerializer(many=True), **error_responses(400, 403, 404)},
        examples=[OpenApiExample("Page", value=HOLD_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One hold",
        parameters=[_ID],
        responses={200: HoldSerializer, **error_responses(403, 404)},
        examples=[OpenApiExample("Hold", value=HOLD_EXAMPLE, response_only=True)],
    ),
)
@extend_schema(tags=["catalogue"])
class HoldViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ShopViewSet):
    serializer_class = HoldSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generation has no shop
            return Hold.objects.none()
        holds = Hold.objects.filter(shop=self.shop).select_related("variant")
        if self.action == "list":
            filters = HoldFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            for name, value in filters.validated_data.items():
                holds = holds.filter(**{name: value})
        return holds

    def _answer(self, hold, code=status.HTTP_200_OK):
        body = self.get_serializer(self.get_queryset().get(pk=hold.pk)).data
        response = Response(body, status=code)
        if code == status.HTTP_201_CREATED:
            response["Location"] = str(body["url"])
        return response

    @extend_schema(
        summary="Hold a variant for a customer",
        description=(
            "Write scope. Sets `quantity` units aside for the shop's hold duration (24 h by default). "
            "The same customer holding the same variant again extends their hold (200) instead of "
            "adding one (201). 409 `out_of_stock` when the units are not available."
        ),
        request=HoldCreateSerializer,
        responses={200: HoldSerializer, 201: HoldSerializer, **error_responses(400, 403), **_REFUSED},
        examples=[
            OpenApiExample("By SKU", value={"customer": 42, "sku": "RB-38-BLEU"}, request_only=True),
            OpenApiExample("By id", value={"customer": 42, "variant": 7, "quantity": 2}, request_only=True),
            OpenApiExample("Hold", value=HOLD_EXAMPLE, response_only=True, status_codes=["200", "201"]),
        ],
    )
    def create(self, request, *args, **kwargs):
        incoming = HoldCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        customer = Customer.objects.filter(shop=self.shop, pk=data["customer"]).first()
        if customer is None:  # another shop's customer is no customer, as everywhere in the API
            raise exceptions.ValidationError({"customer": [_("No such customer.")]})
        lookup = {"pk": data["variant"]} if "variant" in data else {"sku": data["sku"]}
        variant = Variant.objects.filter(shop=self.shop, **lookup).first()
        if variant is None:
            raise exceptions.ValidationError({"variant": [_("No such variant.")]})
        existed = Hold.objects.filter(customer=customer, variant=variant, state=Hold.State.ACTIVE).exists()
        hold = self._refusing(
            hold_create, customer=customer, variant=variant, quantity=data["quantity"], actor=self.actor
        )
        return self._answer(hold, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(
        summary="Extend a hold",
        description="Write scope. `hours` (24 by default) more from now, or from its expiry when later.",
        parameters=[_ID],
        request=HoldExtendSerializer,
        responses={200: HoldSerializer, **error_responses(400, 403, 404), **_REFUSED},
        examples=[OpenApiExample("A day more", value={"hours": 24}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        hold = self.get_object()
        incoming = HoldExtendSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return self._answer(self._refusing(hold_extend, hold=hold, hours=incoming.validated_data["hours"]))

    @extend_schema(
        summary="Release a hold",
        description="Write scope. Its units are available again.",
        parameters=[_ID],
        request=None,
        responses={200: HoldSerializer, **error_responses(403, 404), **_REFUSED},
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        return self._answer(self._refusing(hold_release, hold=self.get_object(), actor=self.actor))

    @extend_schema(
        summary="Convert a hold to an order",
        description=(
            "Write scope. Creates the order `HOLD-<id>` (price × quantity) on the customer, and takes "
            "the units out of the variant's stock; `order` names it."
        ),
        parameters=[_ID],
        request=None,
        responses={200: HoldSerializer, **error_responses(403, 404), **_REFUSED},
    )
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        return self._answer(self._refusing(hold_convert, hold=self.get_object(), actor=self.actor))

    @staticmethod
    def _refusing(service, **kwargs) -> Hold:
        try:
            return service(**kwargs)
        except HoldRefused as refused:
            raise HoldRefusedError(str(refused), code=refused.code) from refused
