"""Inbound events: every verified provider webhook, stored as received before anything else happens.

The HTTP edge only verifies the signature and writes these rows (one INSERT, idempotent on the
provider's id); a Celery task then processes them with the pipeline. A row records what became of
its event (processed, ignored and why, failed and why), so nothing a customer sent is ever lost: a
failure stays visible in the admin and can be reprocessed.
"""

from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Shop


class InboundEvent(models.Model):
    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        STATUS = "status", "Delivery status"

    class State(models.TextChoices):
        # Pending covers "not processed yet" and "waiting for its next attempt" (next_attempt_at).
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    provider = models.CharField(max_length=16)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The provider's id of the event: a message's MessageSid / wamid; a status's "<message id>:<status>",
    # since one message is sent, delivered and read under one id.
    event_key = models.CharField(max_length=255)
    # The receiving address as the provider sent it (Twilio `To`, Meta phone_number_id) and the sender
    # as sent (Twilio `From`, Meta `from`); the worker reads them, the edge does not interpret them.
    shop_address = models.CharField(max_length=255, blank=True)
    sender = models.CharField(max_length=255, blank=True)
    # Twilio: the posted form; Meta: a notification carrying this one message or status.
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)

    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Filled by the worker: what the event turned into (scopes the admin to the shop's people).
    # Indexed by the partial indexes below only (a row has neither while it waits for the worker).
    shop = models.ForeignKey(
        Shop, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_events",
        db_index=False,
    )

    class Meta:
        verbose_name = _("inbound event")
        verbose_name_plural = _("inbound events")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_key"], name="inbound_event_unique"),
        ]
        indexes = [
            # The sweep and the worker look only at pending rows; a partial index stays small.
            models.Index(
                fields=["next_attempt_at", "received_at"],
                name="inbound_event_pending",
                condition=models.Q(state="pending"),
            ),
            models.Index(fields=["provider", "shop_address", "sender", "id"], name="inbound_event_sender"),
            # The webhook's INSERT writes every index but these partial ones: shop and customer are set
            # by the worker (fewer index writes per webhook; bench/webhook.py).
            models.Index(
                fields=["shop", "state", "-received_at"],
                name="inbound_event_shop_state_set",
                condition=models.Q(shop__isnull=False),
            ),
            models.Index(
                fields=["customer"], name="inbound_event_customer", condition=models.Q(customer__isnull=False)
            ),
        ]

    def __str__(self):
        return f"{self.provider} {self.kind} {self.event_key} ({self.state})"


class MediaFile(models.Model):
    """One file a customer sent (a photo, a voice note, a PDF), downloaded from the provider into
    Django's storage by a task (webhooks.media), and served to the shop's people only.

    Deleted with its interaction (a GDPR erase cascades here); the stored bytes go with the row
    (webhooks.media deletes them once the deletion is committed).
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DOWNLOADED = "downloaded", "Downloaded"
        FAILED = "failed", "Failed"

    interaction = models.ForeignKey(
        "customers.Interaction", on_delete=models.CASCADE, related_name="media_files"
    )
    # Its place in Interaction.media, whose entry shows it on the timeline.
    position = models.PositiveSmallIntegerField()
    provider = models.CharField(max_length=16)
    # Meta: the media id (valid 7 days); Twilio: the MediaUrl.
    source = models.CharField(max_length=1000)
    content_type = models.CharField(max_length=255, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    file = models.FileField(upload_to="inbound-media/", max_length=500, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("file received")
        verbose_name_plural = _("files received")
        constraints = [
            models.UniqueConstraint(fields=["interaction", "position"], name="media_file_unique_position"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="media_file_pending", condition=models.Q(state="pending")
            ),
        ]

    def __str__(self):
        return f"{self.provider} media {self.pk} ({self.state})"


@receiver(post_delete, sender=MediaFile)
def _delete_stored_bytes(sender, instance: MediaFile, **kwargs):
    """The bytes go with the row (a GDPR erase cascades here), once the deletion is committed: a
    rolled-back erase must not lose the files. Here, beside the model, so that it is connected
    whichever process deletes (web, worker, shell)."""
    if instance.file:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name))


class SavedReply(models.Model):
    """A shop's ready-made answer, inserted into the send box by staff and edited there before sending.

    `texts` holds one text per language ({"fr": …, "en": …}): the customer's language is picked when
    there is one, else the shop's. Placeholders ({first_name}, {shop_hours}, …) are filled in for the
    customer by webhooks.saved_replies.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="saved_replies")
    name = models.CharField(max_length=80)
    texts = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="saved_reply_unique_name")]

    def __str__(self):
        return self.name


class WhatsAppTemplate(models.Model):
    """An approved WhatsApp template the shop may send outside the 24-hour window.

    Meta knows a template by name and language; Twilio by its Content SID (HX…). `body` is the text as
    approved, with {{1}}, {{2}}… where the parameters go; `parameters` says what fills each one: a
    placeholder name (first_name, shop_hours, …) or "" for a value the person types when sending.
    """

    class Provider(models.TextChoices):
        META = "meta", "Meta WhatsApp Cloud API"
        TWILIO = "twilio", "Twilio"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="whatsapp_templates")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    content_sid = models.CharField(max_length=64, blank=True)
    body = models.TextField()
    parameters = models.JSONField(default=list, blank=True)
    # As the provider last said (APPROVED, PENDING, …); blank for a template entered by hand.
    status = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("WhatsApp template")
        verbose_name_plural = _("WhatsApp templates")
        ordering = ["name", "language", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "provider", "name", "language"], name="whatsapp_template_unique"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.language})"


class WhatsAppAccount(models.Model):
    """The WhatsApp Business Account id (WABA) behind a shop's Meta number: Meta lists templates per
    account, not per number. Kept here, keyed by the number, so that the messaging side owns it."""

    channel_address = models.OneToOneField(
        "customers.ChannelAddress", on_delete=models.CASCADE, related_name="whatsapp_account"
    )
    waba_id = models.CharField(max_length=32)

    def __str__(self):
        return f"WABA {self.waba_id}"
