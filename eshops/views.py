"""The e-shops' webhook endpoint: find the connection by the URL's token, check the size and the
signature, store the event in one INSERT and answer; a task applies it after commit (eshops.services).

Answers: 200 stored (or a duplicate delivery, or WooCommerce's ping), 401 bad signature, 404 unknown
connection, 400 malformed, 413 too big; never a 500 for anything a sender can put in a request.
"""

import json
import logging

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm_backends.crypto import SecretsUnreadable
from eshops.models import EshopConnection
from eshops.providers import PROVIDERS
from eshops.services import event_store

logger = logging.getLogger(__name__)


def _answer(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def _too_big(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > settings.WEBHOOK_MAX_BODY_BYTES
    except ValueError:
        return True


@csrf_exempt
@require_POST
def eshop_webhook(request, provider: str, token: str):
    module = PROVIDERS.get(provider)
    connection = (
        EshopConnection.objects.select_related("shop")
        .filter(provider=provider, webhook_token=token, enabled=True)
        .first()
        if module
        else None
    )
    if connection is None:
        logger.warning("E-shop webhook refused: no %s connection for this URL", provider[:20])
        return _answer("Unknown connection.", 404)
    if _too_big(request):
        return _answer("Request body too large.", 413)
    raw = request.body
    topic = request.headers.get(module.TOPIC_HEADER, "").strip()
    if provider == "woocommerce" and module.is_ping(raw, topic):
        return _answer("OK")  # WooCommerce checking the URL when the webhook is saved
    try:
        secret = connection.secrets.get("webhook_secret", "")
    except SecretsUnreadable:  # our keys changed: the e-shop retries once they are back
        logger.error("E-shop webhook not checked: the secrets of connection %s cannot be read", connection.pk)
        return _answer("Cannot verify now.", 503)
    if not module.verify(
        raw_body=raw, header=request.headers.get(module.SIGNATURE_HEADER, ""), secret=secret
    ):
        logger.warning(
            "E-shop webhook refused: invalid %s for connection %s", module.SIGNATURE_HEADER, connection.pk
        )
        return _answer("Invalid signature.", 401)
    problem = _malformed(request, module, raw, topic, connection)
    if problem:
        logger.warning("E-shop webhook malformed (connection %s): %s", connection.pk, problem)
        return _answer(f"Malformed webhook: {problem}", 400)
    delivery = request.headers.get(module.DELIVERY_HEADER, "").strip()
    event = event_store(connection=connection, topic=topic, delivery_id=delivery, raw_body=raw)
    return _answer("OK" if event else "Already received.")


def _malformed(request, module, raw: bytes, topic: str, connection) -> str:
    if not topic:
        return f"no {module.TOPIC_HEADER} header"
    if not request.headers.get(module.DELIVERY_HEADER, "").strip():
        return f"no {module.DELIVERY_HEADER} header"
    # Shopify names the store that sent it: a token copied to another store's settings is refused.
    shop_domain = request.headers.get("X-Shopify-Shop-Domain", "")
    if module.PROVIDER == "shopify" and shop_domain and shop_domain.lower() != connection.shopify_domain:
        return "X-Shopify-Shop-Domain is not this connection's store"
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "the body is not JSON"
    if not isinstance(payload, dict):
        return "the body is not a JSON object"
    return ""
