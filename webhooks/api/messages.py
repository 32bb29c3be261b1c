"""GET /api/v1/customers/{id}/messages/: the customer's messages, newest first; POST sends one through
exactly the send box's rules (webhooks.staff.staff_message_send, as webhooks.staff_views.customer_send
calls it): refused when the customer opted out or WhatsApp's 24-hour window is closed, automatic
replies paused for the customer, the provider called by the worker after the commit.

A refusal is a 409 whose `error` names the reason (SendRefused.code: opted_out,
outside_whatsapp_window, no_phone, no_address, no_shop_number, …) and whose `detail` is the page's own
sentence: the request is well formed, the customer's state forbids it, and the same call may succeed
later (the customer writes again, or opts back in).
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.response import Response

from coccinelle.api.pagination import Cursor
from coccinelle.api.schema import error_example, error_response, error_responses
from coccinelle.api.views import ShopViewSet
from customers.api.customers import customer_of_shop
from customers.forms import StaffMessageForm
from customers.models import Customer, Interaction
from webhooks.outbound import SendRefused
from webhooks.send_outcome import translated_reason
from webhooks.staff import staff_message_send

# What an API client may read of a file a customer sent: never the provider's URL or media id (the
# URL of a Twilio medium opens with the account's credentials; Meta's id fetches the bytes).
MEDIA_KEYS = ("content_type", "filename", "size", "state")


class SendRefusedError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "send_refused"


class MessageMediaSerializer(serializers.Serializer):
    content_type = serializers.CharField(required=False, allow_null=True)
    filename = serializers.CharField(required=False, allow_null=True)
    size = serializers.IntegerField(required=False, allow_null=True)
    state = serializers.ChoiceField(
        choices=["pending", "downloaded", "failed"], required=False, help_text="Kept by the shop yet?"
    )


class MessageSerializer(serializers.ModelSerializer):
    media = serializers.SerializerMethodField()
    author = serializers.CharField(
        source="author.username", allow_null=True, read_only=True, help_text="Who wrote it; null otherwise."
    )
    sandbox = serializers.SerializerMethodField(
        help_text="Sent to the built-in sandbox (no provider configured): no phone received it."
    )

    class Meta:
        model = Interaction
        fields = [
            "id",
            "channel",
            "direction",
            "body",
            "message_type",
            "media",
            "status",
            "error_code",
            "provider",
            "provider_message_id",
            "occurred_at",
            "is_automatic",
            "author",
            "sandbox",
        ]
        read_only_fields = fields

    @extend_schema_field(MessageMediaSerializer(many=True))
    def get_media(self, interaction) -> list:
        return [
            {key: item[key] for key in MEDIA_KEYS if key in item}
            for item in interaction.media or []
            if isinstance(item, dict)
        ]

    def get_sandbox(self, interaction) -> bool:
        return bool((interaction.raw_payload or {}).get("sandbox"))


class MessageSendSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=1600, help_text="The text, as typed in the send box.")
    channel = serializers.ChoiceField(
        choices=["sms", "whatsapp"],
        required=False,
        help_text="WhatsApp when the customer prefers it, else SMS, if left out (as the page chooses).",
    )


class MessageCursor(Cursor):
    # The timeline's order: newest message first, whenever it was recorded.
    ordering = ("-occurred_at", "-id")


def default_channel(customer: Customer) -> str:
    """The channel the send box starts on (customers.views._default_channel)."""
    return "whatsapp" if customer.preferred_channel == "whatsapp" else "sms"


_CUSTOMER_ID = OpenApiParameter("customer_id", OpenApiTypes.INT, OpenApiParameter.PATH)
_MESSAGE_EXAMPLE = {
    "id": 5531,
    "channel": "whatsapp",
    "direction": "inbound",
    "body": "Bonjour, la robe rouge existe en 38 ?",
    "message_type": "image",
    "media": [{"content_type": "image/jpeg", "filename": "", "size": 48213, "state": "downloaded"}],
    "status": "",
    "error_code": "",
    "provider": "meta",
    "provider_message_id": "wamid.HBgLMzM2MTIzNDU2NzgVAgASGBQzQUZ",
    "occurred_at": "2026-12-01T10:12:03+01:00",
    "is_automatic": False,
    "author": None,
    "sandbox": False,
}
_SENT_EXAMPLE = {
    **_MESSAGE_EXAMPLE,
    "id": 5532,
    "direction": "outbound",
    "body": "Oui, nous l'avons en 38. Voulez-vous qu'on vous la garde ?",
    "message_type": "text",
    "media": [],
    "status": "queued",
    "provider_message_id": None,
    "occurred_at": "2026-12-01T10:20:41+01:00",
    "author": "camille",
}
_REFUSALS = [
    error_example(
        409,
        "opted_out",
        "The customer opted out of messages (they can send START to opt back in).",
        name="Opted out",
    ),
    error_example(
        409,
        "outside_whatsapp_window",
        "WhatsApp allows free text only within 24 hours of the customer's last WhatsApp message; that "
        "window is closed. Send an approved WhatsApp template instead, from the customer's page.",
        name="WhatsApp window closed",
    ),
    error_example(409, "no_phone", "The customer has no phone number for SMS.", name="No phone for SMS"),
    error_example(
        409,
        "no_shop_number",
        "The shop has no number to send from: add one on the shop (Channel addresses).",
        name="No shop number",
    ),
]


@extend_schema_view(
    list=extend_schema(
        summary="A customer's messages",
        description="Received and sent, newest first (by when they happened), by cursor. Files are "
        "described, never linked to the provider. Another shop's customer is a 404.",
        parameters=[_CUSTOMER_ID],
        # A cursor that is not one of ours: DRF's 404, or a 400 where the pagination names it.
        responses={200: MessageSerializer(many=True), **error_responses(400, 403, 404)},
        examples=[OpenApiExample("Page", value=_MESSAGE_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Send a message to a customer",
        description=(
            "Write scope. Sent through the customer page's rules: refused (409, `error` says why) when "
            "the customer opted out (`opted_out`), when WhatsApp's 24-hour window is closed "
            "(`outside_whatsapp_window`: only an approved template may go out, from the customer's "
            "page), when there is no number to write to or from (`no_phone`, `no_address`, "
            "`no_shop_number`). Automatic replies then pause for this customer. Answers 202 with the "
            "message as recorded: `queued` until the worker hands it to the provider (its status "
            "follows on the list)."
        ),
        parameters=[_CUSTOMER_ID],
        request=MessageSendSerializer,
        responses={
            202: MessageSerializer,
            **error_responses(400, 403, 404),
            **error_response(409, "Refused by the send box's rules: `error` says which.", _REFUSALS),
        },
        examples=[
            OpenApiExample(
                "SMS",
                value={"body": "Votre commande est prête.", "channel": "sms"},
                request_only=True,
            ),
            OpenApiExample(
                "Preferred channel", value={"body": "Votre commande est prête."}, request_only=True
            ),
            OpenApiExample("Recorded", value=_SENT_EXAMPLE, response_only=True, status_codes=["202"]),
        ],
    ),
)
@extend_schema(tags=["messages"])
class CustomerMessageViewSet(mixins.ListModelMixin, ShopViewSet):
    serializer_class = MessageSerializer
    pagination_class = MessageCursor

    def customer(self) -> Customer:
        return customer_of_shop(self.shop, self.kwargs["customer_id"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generation has no shop
            return Interaction.objects.none()
        return Interaction.objects.filter(customer=self.customer()).select_related("author")

    def create(self, request, *args, **kwargs):
        customer = self.customer()
        sent = MessageSendSerializer(data=request.data)
        sent.is_valid(raise_exception=True)
        channel = sent.validated_data.get("channel") or default_channel(customer)
        # The page's form: the same checks and messages (a blank text, the length).
        form = StaffMessageForm(data={"channel": channel, "body": sent.validated_data["body"]})
        if not form.is_valid():
            raise exceptions.ValidationError({name: list(errors) for name, errors in form.errors.items()})
        try:
            interaction = staff_message_send(
                customer=customer, channel=channel, body=form.cleaned_data["body"], author=self.actor
            )
        except SendRefused as exc:
            raise SendRefusedError(_refusal_detail(exc), code=exc.code) from exc
        # What is recorded now: queued, or already the provider's answer with an eager or fast worker.
        # Never waited for (the page's send_outcome may wait a moment: a program can read the list).
        interaction.refresh_from_db()
        return Response(self.get_serializer(interaction).data, status=status.HTTP_202_ACCEPTED)


def _refusal_detail(exc: SendRefused) -> str:
    detail = translated_reason(str(exc))
    if exc.code == "outside_whatsapp_window":
        detail = f"{detail} {_('Send an approved WhatsApp template instead, from the customer’s page.')}"
    return detail
