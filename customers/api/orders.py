"""Orders: POST /api/v1/orders/ creates or updates one by the shop's reference (idempotent: an e-shop
pushes every change of an order, and the same push twice leaves one order); list, retrieve, delete;
GET /api/v1/customers/{id}/orders/ lists one customer's. The rules are customers.orders'."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.response import Response

from coccinelle.api.schema import error_example, error_response, error_responses
from coccinelle.api.views import ShopViewSet
from customers.api.customers import customer_of_shop
from customers.models import Customer, Order
from customers.orders import CustomerRef, UnknownCustomer, order_delete, order_upsert, orders_filter
from customers.phones import InvalidPhoneNumber, normalize_phone

# Ids are 64-bit: a bigger number is no id, and some databases cannot even compare with it.
MAX_ID = 2**63 - 1


def _customer_url(request, customer_id: int) -> str:
    # Built rather than reversed: the customers resource's route is its viewset's, registered beside.
    return request.build_absolute_uri(f"/api/v1/customers/{customer_id}/")


class OrderCustomerSerializer(serializers.ModelSerializer):
    """Who bought, with the figures the order changed."""

    url = serializers.SerializerMethodField()
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = Customer
        fields = ["id", "url", "name", "orders_count", "total_spent", "segment"]
        read_only_fields = fields

    def get_url(self, customer) -> str:
        return _customer_url(self.context["request"], customer.pk)


class OrderSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    customer = OrderCustomerSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Order
        fields = ["id", "url", "reference", "amount", "currency", "placed_at", "customer"]
        read_only_fields = fields

    def get_url(self, order) -> str:
        return self.context["request"].build_absolute_uri(f"/api/v1/orders/{order.pk}/")


class CustomerRefSerializer(serializers.Serializer):
    """The customer of a pushed order: their id, or a phone and/or an e-mail (found, else created with
    the names given)."""

    id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    phone = serializers.CharField(
        required=False, max_length=40, help_text="Read with the shop's country: 06 12 34 56 78 or +33…"
    )
    email = serializers.EmailField(required=False, max_length=254)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=100)

    def validate_phone(self, value):
        try:
            return normalize_phone(value, self.context["shop"].country)
        except InvalidPhoneNumber as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate_email(self, value):
        return value.lower()

    def validate(self, attrs):
        if "id" in attrs and ("phone" in attrs or "email" in attrs):
            raise serializers.ValidationError(_("Give the customer's id, or their phone and/or e-mail."))
        if not {"id", "phone", "email"} & set(attrs):
            raise serializers.ValidationError(_("Give the customer's id, phone or e-mail."))
        return attrs


class OrderPushSerializer(serializers.Serializer):
    reference = serializers.CharField(
        max_length=64, help_text="The shop's own order number: unique per shop."
    )
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", required=False, help_text="ISO 4217 code; EUR for a new order if left out."
    )
    placed_at = serializers.DateTimeField(required=False, help_text="Now for a new order if left out.")
    customer = CustomerRefSerializer()

    def validate_currency(self, value):
        return value.upper()


class OrderFilterSerializer(serializers.Serializer):
    customer = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="A customer's id."
    )
    placed_since = serializers.DateTimeField(required=False, help_text="Orders placed at or after.")


_ORDER_EXAMPLE = {
    "id": 812,
    "url": "https://shop.example/api/v1/orders/812/",
    "reference": "CMD-2026-0042",
    "amount": "129.90",
    "currency": "EUR",
    "placed_at": "2026-11-30T15:04:00+01:00",
    "customer": {
        "id": 37,
        "url": "https://shop.example/api/v1/customers/37/",
        "name": "Julie Martin",
        "orders_count": 3,
        "total_spent": "342.40",
        "segment": "active",
    },
}
_PUSH_EXAMPLES = [
    OpenApiExample(
        "By phone",
        value={
            "reference": "CMD-2026-0042",
            "amount": "129.90",
            "currency": "EUR",
            "placed_at": "2026-11-30T15:04:00+01:00",
            "customer": {"phone": "06 12 34 56 78", "first_name": "Julie", "last_name": "Martin"},
        },
        request_only=True,
    ),
    OpenApiExample(
        "By e-mail",
        value={"reference": "CMD-2026-0043", "amount": 59, "customer": {"email": "julie@example.com"}},
        request_only=True,
    ),
    OpenApiExample(
        "By id",
        value={"reference": "CMD-2026-0042", "amount": "99.90", "customer": {"id": 37}},
        request_only=True,
    ),
    OpenApiExample("Order", value=_ORDER_EXAMPLE, response_only=True, status_codes=["200", "201"]),
]
_PUSH_400 = [
    error_example(
        400, "invalid", "Some fields are not valid.", {"customer.phone": ["“12” is not a phone number."]}
    ),
    error_example(
        400,
        "invalid",
        "Some fields are not valid.",
        {"customer.id": ["No such customer."]},
        name="Unknown customer",
    ),
]
_CUSTOMER_ID = OpenApiParameter("customer_id", OpenApiTypes.INT, OpenApiParameter.PATH)
_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The order's id.")
# drf-spectacular wraps a list's example in the cursor page ({"next", "previous", "results": [...]}).
_LIST_EXAMPLE = OpenApiExample("Page", value=_ORDER_EXAMPLE, response_only=True)


@extend_schema_view(
    list=extend_schema(
        summary="List the shop's orders",
        description="Newest first, by cursor (`next`, `previous`); `page_size` up to 200.",
        parameters=[OrderFilterSerializer],
        # A cursor that is not one of ours: DRF's 404, or a 400 where the pagination names it.
        responses={200: OrderSerializer(many=True), **error_responses(400, 403, 404)},
        examples=[_LIST_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary="One order",
        parameters=[_ID],
        responses={200: OrderSerializer, **error_responses(403, 404)},
        examples=[OpenApiExample("Order", value=_ORDER_EXAMPLE, response_only=True)],
    ),
    destroy=extend_schema(
        summary="Delete an order",
        description="Write scope. The customer's figures and segment are recomputed.",
        parameters=[_ID],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(403, 404)},
    ),
)
@extend_schema(tags=["orders"])
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ShopViewSet):
    serializer_class = OrderSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generation has no shop
            return Order.objects.none()
        orders = Order.objects.filter(shop=self.shop).select_related("customer")
        if self.action == "list":
            filters = OrderFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            orders = orders_filter(
                orders,
                customer_id=filters.validated_data.get("customer"),
                placed_since=filters.validated_data.get("placed_since"),
            )
        return orders

    @extend_schema(
        summary="Create or update an order by its reference",
        description=(
            "Idempotent: 201 when the shop's `reference` is new, 200 when it existed (updated to what "
            "was sent; the same push again changes nothing). The customer is found by `id`, or by "
            "`phone` (read with the shop's country) then `email`, and created when absent (with "
            "`first_name`/`last_name`). An order moves to the customer its push names; an order kept "
            "anonymously after its customer's erasure stays anonymous. The customer's orders count, "
            "revenue and segment are recomputed."
        ),
        request=OrderPushSerializer,
        responses={
            201: OrderSerializer,
            200: OrderSerializer,
            **error_responses(403),
            **error_response(400, "Invalid input: `fields` says which and why.", _PUSH_400),
        },
        examples=_PUSH_EXAMPLES,
    )
    def create(self, request, *args, **kwargs):
        push = OrderPushSerializer(data=request.data, context={"shop": self.shop})
        push.is_valid(raise_exception=True)
        data = dict(push.validated_data)
        reference, customer = data.pop("reference"), data.pop("customer")
        try:
            order, created = order_upsert(
                shop=self.shop, reference=reference, customer_ref=CustomerRef(**customer), fields=data
            )
        except UnknownCustomer as exc:
            raise exceptions.ValidationError({"customer": {"id": [_("No such customer.")]}}) from exc
        order = self.get_queryset().get(pk=order.pk)  # with the customer's figures as recomputed
        body = self.get_serializer(order).data
        return Response(
            body,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"Location": body["url"]},
        )

    def perform_destroy(self, instance):
        order_delete(order=instance)


@extend_schema_view(
    list=extend_schema(
        summary="A customer's orders",
        description="Newest first, by cursor. Another shop's customer is a 404.",
        parameters=[_CUSTOMER_ID],
        responses={200: OrderSerializer(many=True), **error_responses(400, 403, 404)},
        examples=[_LIST_EXAMPLE],
    )
)
@extend_schema(tags=["orders"])
class CustomerOrderViewSet(mixins.ListModelMixin, ShopViewSet):
    serializer_class = OrderSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        customer = customer_of_shop(self.shop, self.kwargs["customer_id"])
        return customer.orders.select_related("customer")
