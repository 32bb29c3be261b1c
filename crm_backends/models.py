"""A shop's connection to an external CRM, the outbox of changes to push, and what was pushed."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_backends import crypto
from crm_backends.registry import BACKENDS
from customers.models import Customer, Interaction, Shop


class CrmConnection(models.Model):
    """One shop, one external CRM. Backend-specific options live in `options` (each backend module
    documents its keys); credentials live encrypted in `secrets`."""

    class Backend(models.TextChoices):
        NATIVE = "native", "Coccinelle only (nothing to push)"
        HUBSPOT = "hubspot", "HubSpot"
        SALESFORCE = "salesforce", "Salesforce"

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="crm_connection")
    backend = models.CharField(max_length=16, choices=Backend.choices, default=Backend.NATIVE)
    enabled = models.BooleanField(default=True)
    options = models.JSONField(default=dict, blank=True)
    secrets_encrypted = models.TextField(blank=True, editable=False)
    # A short-lived access token obtained with the secrets (OAuth), kept until it expires.
    token_encrypted = models.TextField(blank=True, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_report = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("CRM connection")
        verbose_name_plural = _("CRM connections")

    def __str__(self):
        return f"{self.shop} → {self.get_backend_display()}"

    def clean(self):
        """Options are checked against what the backend documents (types, ranges, hosts) whenever
        they are saved through a form, so that a typo is an error here rather than a 500 later."""
        backend = BACKENDS.get(self.backend)
        errors = backend.option_errors(self.options) if backend else []
        if errors:
            raise ValidationError({"options": errors})

    @property
    def secrets(self) -> dict:
        return crypto.decrypt(self.secrets_encrypted)

    def set_secrets(self, values: dict) -> None:
        self.secrets_encrypted = crypto.encrypt({k: v for k, v in values.items() if v})

    @property
    def pushes(self) -> bool:
        return self.enabled and self.backend != self.Backend.NATIVE


class SyncItem(models.Model):
    """The outbox: one row per customer or interaction waiting to be pushed (or that failed), and per
    erased or merged contact, or message whose delivery status changed since it was pushed.

    Written in the same transaction as the change, so nothing is lost when the broker, the worker or
    the CRM is down; a pending row for a customer absorbs later changes (its `version` goes up) so that
    repeated edits make one push, and a pending status row absorbs later statuses of its message.

    An erase row outlives its customer: it has no customer, only the CRM's ids (`external_id`, the
    contact; `payload`, the ids of the notes or tasks pushed for them), never personal data. A merge
    row belongs to the surviving customer and names the contact merged away in `external_id`.
    """

    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        INTERACTION = "interaction", "Interaction"
        ERASE = "erase", "Erase (GDPR)"
        MERGE = "merge", "Merge"
        STATUS = "status", "Delivery status"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # Empty only on erase rows (the customer is gone); deleting a customer deletes its other rows.
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    interaction = models.ForeignKey(
        Interaction, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The CRM record an erase or merge row acts on (a contact id): what the push needs once the
    # customer row is gone.
    external_id = models.CharField(max_length=64, blank=True)
    # Erase rows: {"activities": [CRM ids of the notes/tasks pushed for the customer]}. Ids only.
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    version = models.PositiveIntegerField(default=1)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker that claims rows holds them until then; a crashed worker's rows come back after it.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "customer"],
                condition=Q(kind="customer", state="pending"),
                name="sync_item_one_pending_push_per_customer",
            ),
            models.UniqueConstraint(
                fields=["connection", "interaction"],
                condition=Q(kind="interaction"),
                name="sync_item_one_row_per_interaction",
            ),
            # sent -> delivered -> read arriving together cost one update of the note, not three.
            models.UniqueConstraint(
                fields=["connection", "interaction"],
                condition=Q(kind="status", state="pending"),
                name="sync_item_one_pending_status_per_interaction",
            ),
            models.CheckConstraint(
                condition=Q(kind="erase") | Q(customer__isnull=False),
                name="sync_item_customer_unless_erase",
            ),
        ]
        indexes = [models.Index(fields=["connection", "state", "next_attempt_at"], name="sync_item_due_idx")]
        verbose_name = _("sync queue item")
        verbose_name_plural = _("sync queue")

    def __str__(self):
        subject = self.interaction_id or self.customer_id or f"contact {self.external_id}"
        return f"{self.kind} {subject} ({self.state})"


class CustomerSync(models.Model):
    """What the owner sees per customer: pushed when, where, under which id, or why not."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be pushed"
        SYNCED = "synced", "Synced"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="customer_syncs")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="crm_syncs")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    external_id = models.CharField(max_length=64, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "customer"], name="customer_sync_unique")
        ]

    def __str__(self):
        return f"{self.customer_id} on {self.connection}: {self.status}"


class InteractionSync(models.Model):
    """The CRM's id of the note (HubSpot) or task (Salesforce) pushed for a message: what a later
    delivery status updates, and what an erasure deletes."""

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="+")
    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="crm_syncs")
    external_id = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "interaction"], name="interaction_sync_unique")
        ]

    def __str__(self):
        return f"{self.interaction_id} on {self.connection_id}: {self.external_id}"


from crm_backends.outgoing.models import (  # noqa: E402, F401 - outgoing webhooks' models, in this app
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
