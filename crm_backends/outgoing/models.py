"""A shop's webhook endpoints, the events they are sent, and every attempt to send them.

An event is what happened, once per shop (its payload built when it was written); a delivery is that
event for one endpoint (the outbox row a worker claims); an attempt is one HTTP call of a delivery.
"""

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_backends import crypto
from customers.models import Shop

EVENT_TYPES = (
    "customer.created",
    "customer.updated",
    "message.received",
    "message.sent",
    "message.status",
    "order.created",
)
PING = "ping"  # the page's "Send a test event": sent to one endpoint, whatever it subscribes to


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def new_uid(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class WebhookEndpoint(models.Model):
    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(verbose_name=_("URL"), max_length=500)
    # The event types it receives (a subset of EVENT_TYPES).
    events = models.JSONField(verbose_name=_("events"), default=list)
    # {"secret": "whsec_..."} encrypted with crm_backends.crypto; never shown in the admin.
    secret_encrypted = models.TextField(blank=True, editable=False)
    enabled = models.BooleanField(verbose_name=_("enabled"), default=True)
    disabled_reason = models.CharField(verbose_name=_("why disabled"), max_length=300, blank=True)
    disabled_at = models.DateTimeField(verbose_name=_("disabled on"), null=True, blank=True)
    # The current run of failed attempts: how many, and since when (both reset by a success).
    consecutive_failures = models.PositiveIntegerField(verbose_name=_("failures in a row"), default=0)
    failing_since = models.DateTimeField(verbose_name=_("failing since"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["pk"]

    def __str__(self):
        return self.url

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted).get("secret", "")

    def set_secret(self, value: str) -> None:
        self.secret_encrypted = crypto.encrypt({"secret": value})


class WebhookEvent(models.Model):
    """What happened, as sent: `payload` is the whole JSON body, built when the row was written."""

    uid = models.CharField(max_length=32, unique=True, default="", editable=False)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(verbose_name=_("type"), max_length=32)
    # The customer it is about (none for a ping or an anonymous order): an erasure deletes their events.
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(verbose_name=_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self):
        return f"{self.type} {self.uid}"


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row, claimed with a lease, retried with backoff."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    uid = models.CharField(max_length=32, unique=True, default="", editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        WebhookEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries"
    )
    state = models.CharField(
        verbose_name=_("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveIntegerField(verbose_name=_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(verbose_name=_("next attempt"), default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(
        verbose_name=_("last response code"), null=True, blank=True
    )
    last_error = models.CharField(verbose_name=_("last error"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(verbose_name=_("delivered on"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once_per_endpoint")
        ]
        indexes = [
            models.Index(
                fields=["endpoint", "next_attempt_at"],
                condition=Q(state="pending"),
                name="webhook_delivery_due_idx",
            )
        ]

    def __str__(self):
        return f"{self.uid} ({self.state})"


class WebhookAttempt(models.Model):
    """One HTTP call: when, how long, the answer's code (or the network error) and the start of its body."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(verbose_name=_("date"), default=timezone.now)
    duration_ms = models.PositiveIntegerField(verbose_name=_("duration (ms)"), default=0)
    status_code = models.PositiveIntegerField(verbose_name=_("response code"), null=True, blank=True)
    error = models.CharField(verbose_name=_("error"), max_length=300, blank=True)
    response_body = models.TextField(verbose_name=_("response"), blank=True)
    # What was sent besides the body (never the secret: the signature is an HMAC of it).
    request_headers = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-pk"]

    def __str__(self):
        return f"{self.delivery_id} {self.status_code or self.error}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
