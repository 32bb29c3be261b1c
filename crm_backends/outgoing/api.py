"""/api/v1/webhooks/: a shop's outgoing webhook endpoints and their deliveries, for owner-scope keys
(and owners signed in). Thin: the same services and selectors as the owners' pages."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from coccinelle.api.schema import error_responses
from coccinelle.api.views import ShopViewSet
from crm_backends.outgoing import selectors, services
from crm_backends.outgoing.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint

_EXAMPLE_URL = "https://shop.example.com/coccinelle-webhook"
_NOT_STORED = {"Cache-Control": "no-store"}  # answers that carry a signing secret


class EndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES), allow_empty=False)
    last_state = serializers.CharField(read_only=True, allow_null=True, default=None)
    last_status_code = serializers.IntegerField(read_only=True, allow_null=True, default=None)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "events",
            "enabled",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "failing_since",
            "last_state",
            "last_status_code",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [f for f in fields if f not in ("url", "events")]


class EndpointCreatedSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once: sign checks use it.")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class AttemptSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()


class DeliverySerializer(serializers.ModelSerializer):
    uid = serializers.CharField(help_text="The X-Coccinelle-Delivery header of its requests.")
    event = serializers.JSONField(source="event.payload", help_text="The event as it was sent.")
    attempt_log = AttemptSerializer(many=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "uid",
            "state",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "created_at",
            "event",
            "attempt_log",
        ]


_SECRET = inline_serializer("WebhookSecret", {"secret": serializers.CharField()})
_CREATE_EXAMPLE = OpenApiExample(
    "Orders and new customers", value={"url": _EXAMPLE_URL, "events": ["order.created", "customer.created"]}
)


_ENDPOINT_EXAMPLE = OpenApiExample(
    "An endpoint",
    response_only=True,
    value={
        "id": 3,
        "url": _EXAMPLE_URL,
        "events": ["customer.created", "order.created"],
        "enabled": True,
        "disabled_reason": "",
        "disabled_at": None,
        "consecutive_failures": 0,
        "failing_since": None,
        "last_state": "delivered",
        "last_status_code": 200,
        "created_at": "2026-12-01T09:30:00Z",
        "updated_at": "2026-12-01T09:30:00Z",
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="The shop's webhook endpoints",
        responses={200: EndpointSerializer(many=True), **error_responses(400, 403)},
        examples=[_ENDPOINT_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary="An endpoint",
        responses={200: EndpointSerializer, **error_responses(403, 404)},
        examples=[_ENDPOINT_EXAMPLE],
    ),
    destroy=extend_schema(
        summary="Delete an endpoint, its deliveries and attempts",
        responses={204: None, **error_responses(403, 404)},
    ),
)
@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    ShopViewSet,
):
    """Where the shop's events are sent (owner scope for everything: a URL receives customers' data)."""

    serializer_class = EndpointSerializer
    owner_actions = (
        "list",
        "retrieve",
        "create",
        "partial_update",
        "destroy",
        "enable",
        "disable",
        "rotate_secret",
        "ping",
        "deliveries",
        "replay",
    )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is generated without a shop
            return WebhookEndpoint.objects.none()
        return selectors.endpoints_for_shop(self.shop).order_by("-pk")

    def _changes(self, *, partial: bool, instance=None) -> dict:
        serializer = EndpointSerializer(instance, data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        summary="Subscribe a URL to events (the signing secret is in this answer only)",
        request=EndpointSerializer,
        responses={201: EndpointCreatedSerializer, **error_responses(400, 403)},
        examples=[_CREATE_EXAMPLE],
    )
    def create(self, request):
        data = self._changes(partial=False)
        endpoint = _checked(services.endpoint_create, shop=self.shop, actor=self.actor, **data)
        body = EndpointCreatedSerializer(self.get_queryset().get(pk=endpoint.pk)).data
        body["secret"] = endpoint.secret
        return Response(body, status=status.HTTP_201_CREATED, headers=_NOT_STORED)

    @extend_schema(
        summary="Change the URL or the events",
        request=EndpointSerializer,
        responses={200: EndpointSerializer, **error_responses(400, 403, 404)},
        examples=[_CREATE_EXAMPLE],
    )
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        data = self._changes(partial=True, instance=endpoint)
        url, events = data.get("url", endpoint.url), data.get("events", endpoint.events)
        _checked(services.endpoint_update, endpoint=endpoint, url=url, events=events, actor=self.actor)
        return Response(EndpointSerializer(self.get_queryset().get(pk=endpoint.pk)).data)

    def perform_destroy(self, instance):
        services.endpoint_delete(endpoint=instance, actor=self.actor)

    @extend_schema(
        summary="Enable again (failure counters reset; what waited is sent)",
        request=None,
        responses={200: EndpointSerializer, **error_responses(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        services.endpoint_enable(endpoint=self.get_object(), actor=self.actor)
        return Response(EndpointSerializer(self.get_object()).data)

    @extend_schema(
        summary="Disable (nothing is sent or queued for it until enabled)",
        request=None,
        responses={200: EndpointSerializer, **error_responses(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        services.endpoint_disable(endpoint=self.get_object(), actor=self.actor)
        return Response(EndpointSerializer(self.get_object()).data)

    @extend_schema(
        summary="A new signing secret, in force at once",
        request=None,
        responses={200: _SECRET, **error_responses(403, 404)},
        examples=[OpenApiExample("New secret", value={"secret": "whsec_…"}, response_only=True)],
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        secret = services.endpoint_rotate_secret(endpoint=self.get_object(), actor=self.actor)
        return Response({"secret": secret}, headers=_NOT_STORED)

    @extend_schema(
        summary="Send a test event (ping) to this endpoint",
        request=None,
        responses={202: DeliverySerializer, **error_responses(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        delivery = services.endpoint_ping(endpoint=self.get_object(), actor=self.actor)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Its deliveries, newest first, each with its attempts",
        responses={200: DeliverySerializer(many=True), **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        rows = selectors.deliveries_for_endpoint(self.get_object(), limit=None)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Send a delivery again (same event and delivery ids, a new signature)",
        request=None,
        responses={202: DeliverySerializer, **error_responses(403, 404)},
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[0-9]+)/replay")
    def replay(self, request, pk=None, delivery_id=None):
        endpoint = self.get_object()
        delivery = endpoint.deliveries.filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound()
        delivery = services.delivery_replay(delivery=delivery, actor=self.actor)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


def _checked(service, **kwargs):
    """The service's own checks (the URL rules) answered as the API's 400."""
    try:
        return service(**kwargs)
    except DjangoValidationError as exc:
        raise ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"url": exc.messages}
        ) from exc
