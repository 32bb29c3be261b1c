"""Try the inbound flow without a phone: a signed webhook through the real URL and pipeline."""

import hashlib
import hmac
import json
import secrets
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import Client, override_settings
from django.urls import reverse
from twilio.request_validator import RequestValidator

from customers.management.commands._shop import shop_from_slug
from customers.models import ChannelAddress, Interaction
from customers.phones import InvalidPhoneNumber, normalize_phone
from webhooks import autoreply
from webhooks.inbound_events import events_process

HOST = "localhost"


class Command(BaseCommand):
    help = "Run a message through the real inbound pipeline (signed, through the URL) and print the reply."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="shop slug")
        parser.add_argument("--from", dest="sender", required=True, help="the customer's number, any format")
        parser.add_argument("--text", required=True)
        parser.add_argument("--channel", choices=["sms", "whatsapp"], default="sms")
        parser.add_argument("--profile-name", default="", help="WhatsApp display name")

    def handle(self, *args, **opts):
        shop = shop_from_slug(opts["shop"])
        try:
            sender = normalize_phone(opts["sender"], shop.country)
        except InvalidPhoneNumber as exc:
            raise CommandError(f"--from: {exc}") from None
        addresses = dict(shop.channel_addresses.order_by("-pk").values_list("provider", "address"))
        # Settings a signature needs: the configured secrets, or one-off ones when none are set, so
        # that verification is exercised either way. ALLOWED_HOSTS must accept the local client.
        overrides = {
            "TWILIO_AUTH_TOKEN": settings.TWILIO_AUTH_TOKEN or secrets.token_hex(16),
            "WHATSAPP_APP_SECRET": settings.WHATSAPP_APP_SECRET or secrets.token_hex(16),
            "ALLOWED_HOSTS": [*settings.ALLOWED_HOSTS, HOST],
            "PUBLIC_BASE_URL": "",
        }
        with override_settings(**overrides):
            if ChannelAddress.Provider.TWILIO in addresses:
                reply = self._twilio(addresses["twilio"], sender, opts)
            elif opts["channel"] == "whatsapp" and ChannelAddress.Provider.META in addresses:
                reply = self._meta(addresses["meta"], sender, opts)
            else:
                raise CommandError(
                    f"Shop “{shop.slug}” has no number for {opts['channel']}: add one with a Twilio number "
                    "(or a WhatsApp phone_number_id for WhatsApp) on the shop."
                )
        self.stdout.write(f"Reply: {reply}" if reply else "No automatic reply (see the log above for why).")

    def _twilio(self, number, sender, opts):
        prefix = "whatsapp:" if opts["channel"] == "whatsapp" else ""
        params = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": "AC" + secrets.token_hex(16),
            "From": prefix + sender,
            "To": prefix + number,
            "Body": opts["text"],
            "NumMedia": "0",
        }
        if prefix:
            params.update(ProfileName=opts["profile_name"], WaId=sender.lstrip("+"))
        path = reverse("webhooks:twilio-whatsapp" if prefix else "webhooks:twilio-sms")
        signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
            f"http://{HOST}{path}", params
        )
        response = Client().post(path, params, HTTP_HOST=HOST, HTTP_X_TWILIO_SIGNATURE=signature)
        self._check(response)
        return self._processed("twilio", params["MessageSid"])

    def _meta(self, phone_number_id, sender, opts):
        wamid = "wamid." + secrets.token_hex(24)
        digits = sender.lstrip("+")
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": phone_number_id, "phone_number_id": phone_number_id},
            "contacts": [{"profile": {"name": opts["profile_name"]}, "wa_id": digits}],
            "messages": [
                {
                    "from": digits,
                    "id": wamid,
                    "timestamp": str(int(time.time())),
                    "type": "text",
                    "text": {"body": opts["text"]},
                }
            ],
        }
        body = json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}],
            }
        ).encode()
        signature = hmac.new(settings.WHATSAPP_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        response = Client().post(
            reverse("webhooks:whatsapp"),
            body,
            content_type="application/json",
            HTTP_HOST=HOST,
            HTTP_X_HUB_SIGNATURE_256=f"sha256={signature}",
        )
        self._check(response)
        return self._processed("meta", wamid)

    def _processed(self, provider, message_id):
        """The webhook only stored the event; process it here, as the worker would (if the worker got
        there first, this records nothing twice), and decide the reply without the debounce's wait
        (a turn already answered is not answered twice), so that the reply can be printed."""
        events_process(provider=provider, keys=[message_id])
        inbound = Interaction.objects.filter(provider=provider, provider_message_id=message_id).first()
        if inbound is not None:
            autoreply.turn_respond(customer_id=inbound.customer_id, inbound_id=inbound.pk)
        return self._sent_reply(message_id)

    def _sent_reply(self, inbound_id):
        reply = Interaction.objects.filter(in_reply_to__provider_message_id=inbound_id).first()
        if reply is None:
            return ""
        return f"{reply.body}\n(recorded, and handed to the provider's send API: status {reply.status})"

    def _check(self, response):
        if response.status_code >= 300:
            raise CommandError(
                f"The webhook answered {response.status_code}: {response.content.decode()[:200]}"
            )
