"""The native CRM: shops (tenants), their people, customers and everything recorded about them."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, OrderBy, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.phones import InvalidChannelAddress, normalize_channel_address


class Shop(models.Model):
    """A tenant. Every customer, note, order and message belongs to exactly one shop."""

    name = models.CharField(verbose_name=_("name"), max_length=200)
    slug = models.SlugField(verbose_name=_("slug"), max_length=80, unique=True)
    country = models.CharField(
        verbose_name=_("country"),
        max_length=2,
        default="FR",
        help_text="ISO country code used to read local numbers like 06 98 76 54 32.",
    )
    language = models.CharField(verbose_name=_("language"), max_length=8, default="fr")
    time_zone = models.CharField(verbose_name=_("time zone"), max_length=64, default="Europe/Paris")
    # What automatic replies may tell customers; empty means "we don't know, ask a human".
    address = models.TextField(verbose_name=_("address"), blank=True)
    opening_hours = models.TextField(verbose_name=_("opening hours"), blank=True)
    website = models.URLField(blank=True)
    contact_phone = models.CharField(verbose_name=_("contact phone"), max_length=32, blank=True)
    # Automatic replies (webhooks/autoreply.py): on for the shop, and how long they stay quiet for a customer
    # after a person from the shop wrote to them by hand.
    auto_replies_enabled = models.BooleanField(verbose_name=_("automatic replies"), default=True)
    auto_reply_pause_minutes = models.PositiveIntegerField(
        verbose_name=_("pause of automatic replies (minutes)"), default=240
    )
    # Segment thresholds (see customers/segments.py for the rules).
    vip_min_spent = models.DecimalField(
        verbose_name=_("VIP from (spent)"), max_digits=10, decimal_places=2, default=Decimal("1000")
    )
    vip_min_orders = models.PositiveIntegerField(verbose_name=_("VIP from (orders)"), default=5)
    inactive_after_days = models.PositiveIntegerField(verbose_name=_("inactive after (days)"), default=365)
    created_at = models.DateTimeField(verbose_name=_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ChannelAddress(models.Model):
    """An address on which a shop receives messages: a Twilio number or a Meta WhatsApp phone_number_id.

    Inbound webhooks find the shop from the receiving address, so an address belongs to one shop only.
    """

    class Provider(models.TextChoices):
        TWILIO = "twilio", _("Twilio (SMS and WhatsApp)")
        META = "meta", _("Meta WhatsApp Cloud API")

    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="channel_addresses"
    )
    provider = models.CharField(verbose_name=_("provider"), max_length=16, choices=Provider.choices)
    address = models.CharField(
        verbose_name=_("address"),
        max_length=64,
        help_text="Twilio: a phone number in any spelling (stored as +33612345678), a short code or a "
        "messaging service SID (MG…). Meta: the phone number ID (digits).",
    )

    class Meta:
        verbose_name = _("channel address")
        verbose_name_plural = _("channel addresses")
        constraints = [
            # On the normalised spelling (clean() and save() write nothing else), so one number in two
            # spellings cannot belong to two shops.
            models.UniqueConstraint(
                fields=["provider", "address"],
                name="channel_address_unique",
                violation_error_message="This number already receives messages for a shop.",
            ),
        ]

    def __str__(self):
        return f"{self.get_provider_display()}: {self.address}"

    def save(self, *args, **kwargs):
        # Also here, not only in clean(): commands, services and scripts save without a form, and an
        # address in another spelling would slip past the unique constraint.
        try:
            self.address = self._normalized_address()
        except InvalidChannelAddress as exc:
            raise ValidationError({"address": str(exc)}) from exc
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if not self.address or self.provider not in self.Provider.values:
            return  # the fields' own validation says what is missing
        try:
            self.address = self._normalized_address()
        except InvalidChannelAddress as exc:
            raise ValidationError({"address": str(exc)}) from exc

    def _normalized_address(self) -> str:
        return normalize_channel_address(self.provider, self.address, self._shop_country())

    def _shop_country(self) -> str:
        # The admin validates a new shop's addresses before the shop is saved: read the unsaved one.
        try:
            return self.shop.country or "FR"
        except Shop.DoesNotExist:
            return "FR"


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(verbose_name=_("role"), max_length=8, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(verbose_name=_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "shop"], name="membership_unique")]

    def __str__(self):
        return f"{self.user} in {self.shop} ({self.role})"


class Tag(models.Model):
    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(verbose_name=_("name"), max_length=64)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="tag_unique_per_shop")]

    def __str__(self):
        return self.name


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone call")
    MANUAL = "manual", _("Manual entry")


class ListIndex(models.Index):
    """An index in a sort order with NULLS LAST, which only PostgreSQL accepts in an index. SQLite
    refuses it there and already sorts NULLs last in a descending order: it gets the plain order."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        _path, expressions, options = self.deconstruct()
        plain = [
            OrderBy(e.expression, descending=e.descending) if isinstance(e, OrderBy) else e
            for e in expressions
        ]
        return models.Index(*plain, **options).create_sql(model, schema_editor, using=using, **kwargs)


# Customer columns derived from orders and messages (see customers/figures.py).
FIGURE_FIELDS = frozenset(
    {
        "orders_count",
        "total_spent",
        "first_order_at",
        "last_order_at",
        "last_message_preview",
        "last_message_at",
        "last_inbound_id",
    }
)


class FoldedName(models.Func):
    """First and last name in lower case, separated by a space, and on PostgreSQL without accents:
    what the name search compares its folded words with (customers/search.py). `f_unaccent` is
    migration customers 0008's IMMUTABLE wrapper of the unaccent extension (a stored generated column
    may only call immutable functions). SQLite's column folds no accents: its search folds at query
    time instead (a Python function, customers/apps.py), which is fast enough at its sizes."""

    output_field = models.TextField()

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template="LOWER(%(expressions)s)", arg_joiner=" || ' ' || "
        )

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template="f_unaccent(LOWER(%(expressions)s))", arg_joiner=" || ' ' || "
        )


class Customer(models.Model):
    class Segment(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        VIP = "vip", "VIP"
        INACTIVE = "inactive", _("Inactive")

    class NameSource(models.TextChoices):
        UNKNOWN = "", _("Unknown")
        PROFILE = "profile", _("WhatsApp profile")
        TEXT = "text", _("Read from a message")
        HUMAN = "human", _("Entered or confirmed by a person")

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="customers")
    first_name = models.CharField(verbose_name=_("first name"), max_length=100, blank=True)
    last_name = models.CharField(verbose_name=_("last name"), max_length=100, blank=True)
    # Kept by the database from the two above, for the name search's trigram index (PostgreSQL).
    search_name = models.GeneratedField(
        expression=FoldedName("first_name", "last_name"), output_field=models.TextField(), db_persist=True
    )
    # Automatic sources never overwrite a name a person entered or confirmed.
    name_source = models.CharField(
        verbose_name=_("name source"), max_length=8, choices=NameSource.choices, blank=True, default=""
    )
    # NULL rather than "" when absent, so that the per-shop unique constraints ignore missing values.
    phone = models.CharField(
        verbose_name=_("phone"), max_length=20, null=True, blank=True, help_text="E.164, e.g. +33698765432"
    )
    whatsapp_user_id = models.CharField(
        verbose_name=_("WhatsApp id"),
        max_length=140,
        null=True,
        blank=True,
        help_text="WhatsApp business-scoped user id (users with a username).",
    )
    email = models.EmailField(verbose_name=_("e-mail"), null=True, blank=True)
    # A sender that is no phone number and no WhatsApp user id (an alphanumeric sender, an address no
    # parser reads) is still a customer: identified by the provider's address as sent.
    external_address = models.CharField(
        verbose_name=_("sender address"),
        max_length=255,
        null=True,
        blank=True,
        help_text="The sender's address as the provider sent it.",
    )
    # The name the customer's WhatsApp profile shows, as sent, in any script and order: a display name
    # until a person confirms it as first/last name.
    profile_name = models.CharField(verbose_name=_("WhatsApp profile name"), max_length=255, blank=True)
    preferred_channel = models.CharField(
        verbose_name=_("preferred channel"), max_length=16, choices=Channel.choices, blank=True
    )
    language = models.CharField(verbose_name=_("language"), max_length=8, blank=True)
    segment = models.CharField(
        verbose_name=_("segment"), max_length=16, choices=Segment.choices, default=Segment.PROSPECT
    )
    # Set when a person chose the segment by hand: the nightly recomputation then leaves it alone.
    segment_manual = models.BooleanField(verbose_name=_("segment set by hand"), default=False)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    address_line1 = models.CharField(verbose_name=_("address"), max_length=200, blank=True)
    address_line2 = models.CharField(verbose_name=_("address (continued)"), max_length=200, blank=True)
    postal_code = models.CharField(verbose_name=_("postal code"), max_length=20, blank=True)
    city = models.CharField(verbose_name=_("city"), max_length=100, blank=True)
    country = models.CharField(verbose_name=_("country"), max_length=2, blank=True)
    opted_out_at = models.DateTimeField(verbose_name=_("opted out on"), null=True, blank=True)
    auto_replies_paused_until = models.DateTimeField(
        verbose_name=_("automatic replies paused until"), null=True, blank=True
    )
    needs_attention = models.BooleanField(verbose_name=_("needs attention"), default=False)
    # The inbox's clock: when the customer was handed over to a person (an escalation, a message the
    # automatic reply could not answer); cleared with needs_attention when a person answers or marks the
    # conversation handled.
    attention_since = models.DateTimeField(
        verbose_name=_("waiting since"), null=True, blank=True, editable=False
    )
    # Who in the shop looks after the conversation (the inbox's "mine"); anyone may take it over.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_customers",
    )
    first_contact_at = models.DateTimeField(verbose_name=_("first contact"), null=True, blank=True)
    last_contact_at = models.DateTimeField(verbose_name=_("last contact"), null=True, blank=True)
    source = models.CharField(
        verbose_name=_("source"),
        max_length=32,
        blank=True,
        help_text="How the profile arrived: sms, whatsapp, import…",
    )
    created_at = models.DateTimeField(verbose_name=_("customer since"), default=timezone.now)
    updated_at = models.DateTimeField(verbose_name=_("updated"), auto_now=True)
    # Figures kept with the data (customers/figures.py recomputes them in the transaction of every order
    # or message change), so that the list sorts and shows them without aggregating a shop's orders and
    # messages on every page view. db_default: rows inserted by SQL (bench, fixtures) start consistent.
    orders_count = models.PositiveIntegerField(
        verbose_name=_("orders"), default=0, db_default=0, editable=False
    )
    total_spent = models.DecimalField(
        verbose_name=_("revenue"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        db_default=Decimal("0"),
        editable=False,
    )
    first_order_at = models.DateTimeField(
        verbose_name=_("first order"), null=True, blank=True, editable=False
    )
    last_order_at = models.DateTimeField(verbose_name=_("last order"), null=True, blank=True, editable=False)
    # The latest message the customer wrote (not the shop's replies): its start and its time.
    last_message_preview = models.CharField(
        verbose_name=_("last message"), max_length=200, blank=True, default="", db_default="", editable=False
    )
    last_message_at = models.DateTimeField(
        verbose_name=_("last message on"), null=True, blank=True, editable=False
    )
    # The customer's newest inbound message id: the list's live updates start from the shop's highest one,
    # read from an index instead of scanning the shop's messages.
    last_inbound_id = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        # Never-contacted customers last on both databases (PostgreSQL puts NULLs first in a DESC sort),
        # in customer_list_idx's order, so that the admin changelist reads its page from that index.
        ordering = [F("last_contact_at").desc(nulls_last=True), "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "phone"],
                condition=Q(phone__isnull=False),
                name="customer_phone_unique_per_shop",
            ),
            models.UniqueConstraint(
                "shop",
                Lower("email"),
                condition=Q(email__isnull=False),
                name="customer_email_unique_per_shop",
            ),
            models.UniqueConstraint(
                fields=["shop", "whatsapp_user_id"],
                condition=Q(whatsapp_user_id__isnull=False),
                name="customer_wa_user_unique_per_shop",
            ),
            models.UniqueConstraint(
                fields=["shop", "external_address"],
                condition=Q(external_address__isnull=False),
                name="customer_external_address_unique_per_shop",
            ),
        ]
        indexes = [
            # One index per sort of the list, in the sort's exact order (customers.selectors.LIST_SORTS),
            # so that a page reads its 25 rows from the index instead of sorting the shop.
            ListIndex(
                F("shop"),
                F("last_contact_at").desc(nulls_last=True),
                F("id").desc(),
                name="customer_list_idx",
            ),
            models.Index(
                F("shop"), Lower("last_name"), Lower("first_name"), F("id"), name="customer_name_idx"
            ),
            models.Index(F("shop"), F("total_spent").desc(), F("id").desc(), name="customer_revenue_idx"),
            # Filters, each followed by the default sort: a filtered page also stops after its rows.
            ListIndex(
                F("shop"),
                F("segment"),
                F("last_contact_at").desc(nulls_last=True),
                F("id").desc(),
                name="customer_segment_idx",
            ),
            ListIndex(
                F("shop"),
                F("preferred_channel"),
                F("last_contact_at").desc(nulls_last=True),
                F("id").desc(),
                name="customer_channel_idx",
            ),
            # Few customers need attention: a partial index holds only them.
            ListIndex(
                F("shop"),
                F("last_contact_at").desc(nulls_last=True),
                F("id").desc(),
                condition=Q(needs_attention=True),
                name="customer_attention_idx",
            ),
            ListIndex(F("shop"), F("last_inbound_id").desc(nulls_last=True), name="customer_inbound_idx"),
            # The inbox (customers.inbox): who waits, oldest first, from the few that need a person.
            models.Index(
                fields=["shop", "attention_since", "id"],
                condition=Q(needs_attention=True),
                name="customer_waiting_idx",
            ),
            # The stat cards (customers.selectors.dashboard_stats) count from these without the rows.
            models.Index(fields=["shop", "created_at"], name="customer_stats_new_idx"),
            models.Index(
                fields=["shop", "last_order_at"], include=["last_contact_at"], name="customer_stats_order_idx"
            ),
        ]

    def __str__(self):
        return self.display_name

    def save(self, *args, **kwargs):
        # The inbox's clock goes with the flag, whoever sets or clears it (the admin's tick box too).
        if not self.needs_attention:
            self.attention_since = None
        elif self.attention_since is None:
            self.attention_since = timezone.now()
        fields = kwargs.get("update_fields")
        if fields is not None and "needs_attention" in fields and "attention_since" not in fields:
            kwargs["update_fields"] = [*fields, "attention_since"]
        # The figures are written only by customers.figures (one UPDATE from the orders and messages):
        # a record loaded before an order or message was recorded must not put its stale copy back.
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and not f.generated and f.name not in FIGURE_FIELDS
            ]
        super().save(*args, **kwargs)

    @property
    def full_name(self):
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def display_name(self):
        """The name a person gave (or one read with confidence), else the WhatsApp profile name as
        sent (any script, not yet confirmed), else how the customer can be reached."""
        return (
            self.full_name
            or self.profile_name
            or self.phone
            or self.email
            or self.whatsapp_user_id
            or self.external_address
            or f"Customer #{self.pk}"
        )

    @property
    def is_opted_out(self):
        return self.opted_out_at is not None

    def clean(self):
        # Imported here because phones.py is pure and models must not depend on services at import time.
        from customers.phones import InvalidPhoneNumber, normalize_phone

        for field in ("phone", "whatsapp_user_id", "email"):
            value = getattr(self, field)
            setattr(self, field, value.strip() or None if isinstance(value, str) else value)
        if self.email:
            self.email = self.email.lower()
        if self.phone:
            try:
                self.phone = normalize_phone(self.phone, self.shop.country if self.shop_id else "FR")
            except InvalidPhoneNumber as exc:
                raise ValidationError({"phone": str(exc)}) from exc
        if not (self.phone or self.email or self.whatsapp_user_id or self.full_name):
            raise ValidationError(
                gettext("A customer needs at least a name, a phone number, an e-mail or a WhatsApp id.")
            )


class Interaction(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Received")
        OUTBOUND = "outbound", _("Sent")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="interactions"
    )
    channel = models.CharField(verbose_name=_("channel"), max_length=16, choices=Channel.choices)
    direction = models.CharField(verbose_name=_("direction"), max_length=8, choices=Direction.choices)
    body = models.TextField(verbose_name=_("text"), blank=True)
    # [{"url": ..., "content_type": ...}, ...]
    media = models.JSONField(default=list, blank=True)
    # {"latitude", "longitude", "name", "address"} when the customer shared a location.
    location = models.JSONField(null=True, blank=True)
    button_reply = models.CharField(max_length=256, blank=True)
    # The provider's message type (text, image, contacts, order, system, unsupported, …) and what that
    # type carries beyond the text, readable by a person: see webhooks/inbound.py for the keys per type.
    message_type = models.CharField(max_length=32, blank=True, default="text")
    content = models.JSONField(default=dict, blank=True)
    # The provider's id of the message this one answers (WhatsApp `context.id`): shown as a quote.
    context_message_id = models.CharField(max_length=128, blank=True)
    forwarded = models.BooleanField(default=False)
    # Reactions to this message, one per person: [{"emoji", "at", "provider_message_id", "customer_id"}];
    # a removed one stays with an empty emoji (not shown), so that replaying the older one cannot bring
    # it back. Each entry remembers the event that made it: applying an event twice changes nothing.
    reactions = models.JSONField(default=list, blank=True)
    # Edits replace the body and keep the earlier ones: [{"body", "replaced_at", "provider_message_id"}];
    # a revoke marks it deleted (deleted_at).
    edits = models.JSONField(default=list, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=16, blank=True)
    # Unique per provider when set: a webhook delivered twice records one interaction.
    provider_message_id = models.CharField(max_length=128, null=True, blank=True)
    # Long enough for every status Twilio and Meta send (`partially_delivered`).
    status = models.CharField(
        verbose_name=_("status"),
        max_length=32,
        blank=True,
        help_text="Delivery status reported by the provider.",
    )
    error_code = models.CharField(max_length=32, blank=True)
    occurred_at = models.DateTimeField(verbose_name=_("date"), default=timezone.now)
    raw_payload = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Sent by the reply engine rather than a person (counted by the hourly cap on automatic replies).
    is_automatic = models.BooleanField(verbose_name=_("automatic"), default=False)
    in_reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_message_id"],
                condition=Q(provider_message_id__isnull=False),
                name="interaction_provider_message_unique",
            ),
        ]
        indexes = [models.Index(fields=["customer", "-occurred_at"], name="interaction_timeline_idx")]

    def __str__(self):
        return (
            f"{self.get_direction_display()} {self.get_channel_display()} {self.occurred_at:%Y-%m-%d %H:%M}"
        )


class Note(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(verbose_name=_("note"))
    created_at = models.DateTimeField(verbose_name=_("written on"), default=timezone.now)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="note_timeline_idx")]

    def __str__(self):
        return self.body[:60]


class Order(models.Model):
    """A purchase. Orders carry their shop so that erasing a customer keeps the totals for the accounts."""

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="orders")
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    reference = models.CharField(verbose_name=_("reference"), max_length=64)
    amount = models.DecimalField(verbose_name=_("amount"), max_digits=10, decimal_places=2)
    currency = models.CharField(verbose_name=_("currency"), max_length=3, default="EUR")
    placed_at = models.DateTimeField(verbose_name=_("placed on"), default=timezone.now)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "reference"], name="order_reference_unique")]
        indexes = [
            models.Index(fields=["customer", "-placed_at"], name="order_timeline_idx"),
            # The analytics' refresh reads a shop's orders of the last days (no webhook inserts orders).
            models.Index(fields=["shop", "placed_at"], name="order_shop_placed_idx"),
        ]

    def __str__(self):
        return f"{self.reference} ({self.amount} {self.currency})"


class AuditEntry(models.Model):
    """What happened to a customer record beyond ordinary edits: merges, erasures, imports."""

    class Action(models.TextChoices):
        MERGE = "merge", _("Merged")
        ERASE = "erase", _("Erased (GDPR)")
        IMPORT = "import", _("Imported")
        SEGMENT = "segment", _("Segment set by hand")
        # A shop's receiving address dropped because another shop had the same number first (migration 0003).
        ADDRESS_REMOVED = "address_removed", _("Channel address removed")

    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="audit_entries"
    )
    # CASCADE: an erased customer's history goes with them; the erase entry itself has no customer.
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="audit_entries",
    )
    action = models.CharField(verbose_name=_("action"), max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    details = models.JSONField(verbose_name=_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(verbose_name=_("date"), default=timezone.now)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_action_display()} {self.created_at:%Y-%m-%d %H:%M}"


# Registered with the app from its own module (customers/models_keys.py), to keep this file readable.
from customers.models_keys import ApiKey  # noqa: E402, F401
