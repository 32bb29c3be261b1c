"""How customers, notes and tags read in the API, and the shapes of what clients send.

Output serializers are read-only: writes are validated by the pages' own forms (customers/forms.py) and
done by the services, so these only describe and type-check what comes in (the OpenAPI schema says the
same). The customer's representation is the one the outgoing webhooks use too.
"""

from rest_framework import serializers

from customers.forms import LANGUAGE_CHOICES
from customers.models import Channel, Customer, Note, Tag
from customers.services import NOTE_MAX_CHARS

TAG_MAX_CHARS = Tag._meta.get_field("name").max_length


class CustomerSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-customer-detail")
    name = serializers.CharField(source="display_name", read_only=True, help_text="As the pages show it.")
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    opted_out = serializers.BooleanField(source="is_opted_out", read_only=True)
    # Empty when unknown: the schema must say "" is a value too.
    preferred_channel = serializers.ChoiceField(choices=Channel.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "url",
            "name",
            "first_name",
            "last_name",
            "phone",
            "email",
            "whatsapp_user_id",
            "language",
            "segment",
            "tags",
            "preferred_channel",
            "needs_attention",
            "opted_out",
            "orders_count",
            "total_spent",
            "address_line1",
            "address_line2",
            "postal_code",
            "city",
            "country",
            "source",
            "first_contact_at",
            "last_contact_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerWriteSerializer(serializers.Serializer):
    """What a create or a PATCH may send. Types and lengths here; the rules (the phone read with the
    shop's country, one phone/e-mail/WhatsApp id per customer, a name or an identifier) are the edit
    page's form's."""

    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Any format; a local number is read with the shop's country (06 98 76 54 32).",
    )
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, allow_null=True)
    whatsapp_user_id = serializers.CharField(
        max_length=140, required=False, allow_blank=True, allow_null=True
    )
    preferred_channel = serializers.ChoiceField(
        choices=[("", ""), *Channel.choices], required=False, allow_blank=True
    )
    language = serializers.ChoiceField(
        choices=[("", ""), *LANGUAGE_CHOICES], required=False, allow_blank=True
    )
    address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = serializers.CharField(
        max_length=2, required=False, allow_blank=True, help_text="ISO code, two letters."
    )
    segment = serializers.ChoiceField(
        choices=Customer.Segment.choices,
        required=False,
        help_text="A segment sent here is pinned: the nightly recomputation leaves it alone.",
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX_CHARS),
        max_length=50,
        required=False,
        help_text="The customer's tags, all of them (replaces the current ones); new names are created.",
    )


class CustomerFilterSerializer(serializers.Serializer):
    """The list's query parameters."""

    search = serializers.CharField(
        required=False,
        max_length=200,
        allow_blank=True,
        help_text="As on the pages: a phone in any format, a name (accents and case aside) or an e-mail.",
    )
    segment = serializers.ChoiceField(choices=Customer.Segment.choices, required=False)
    tag = serializers.CharField(required=False, max_length=TAG_MAX_CHARS, help_text="A tag's name.")
    channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, help_text="The customer's preferred channel."
    )
    needs_attention = serializers.BooleanField(required=False, allow_null=True, default=None)
    updated_since = serializers.DateTimeField(
        required=False, help_text="ISO 8601; customers changed at or after this time."
    )


class MergeRequestSerializer(serializers.Serializer):
    merge = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=50,
        help_text="Ids of the customers to fold into this one.",
    )
    confirm = serializers.BooleanField(
        default=False,
        help_text="false (the default): answer what the merge would do and change nothing; true: merge.",
    )
    confirm_conflicts = serializers.BooleanField(
        default=False,
        help_text="Needed too when the preview shows `conflicts` (the records hold different phones or "
        "e-mails: they may be two people), as the admin's merge page asks for a second yes.",
    )


class MergeCandidateSerializer(CustomerSerializer):
    messages_count = serializers.IntegerField(read_only=True)
    notes_count = serializers.IntegerField(read_only=True)
    orders_total = serializers.IntegerField(read_only=True, help_text="Orders attached to this record.")

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "messages_count", "notes_count", "orders_total"]
        read_only_fields = fields


class NotKeptSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    values = serializers.DictField(
        child=serializers.CharField(), help_text="Field → value: phone, email or whatsapp_user_id."
    )


class MergePreviewSerializer(serializers.Serializer):
    """What a merge would do, as the admin's confirmation page shows it."""

    confirmed = serializers.BooleanField(help_text="Always false here: nothing was changed.")
    keep = CustomerSerializer()
    merge = MergeCandidateSerializer(many=True)
    fills = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text="Empty fields of the kept record that the others fill: field → value.",
    )
    not_kept = NotKeptSerializer(
        many=True,
        help_text="Phones, e-mails and WhatsApp ids the kept record does not take (it has its own): "
        "they go into a note on it and into the audit trail, never lost.",
    )
    conflicts = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="phone / email → the different values the records hold: they may be two people.",
    )


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Note
        fields = ["id", "customer", "body", "author", "created_at"]
        read_only_fields = ["id", "customer", "author", "created_at"]
        extra_kwargs = {"body": {"max_length": NOTE_MAX_CHARS}}


class TagSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-tag-detail")
    customers_count = serializers.IntegerField(read_only=True, help_text="Customers with this tag.")

    class Meta:
        model = Tag
        fields = ["id", "url", "name", "customers_count"]
        read_only_fields = ["id", "customers_count"]
