"""How products and variants read in the API, and the shapes of what clients send. Output is read-only;
writes go through catalog.services."""

from rest_framework import serializers

from catalog.models import Product, Variant

PRICE = {"max_digits": 10, "decimal_places": 2, "min_value": 0}
MAX_STOCK = 2**31 - 1  # a PositiveIntegerField is a 32-bit integer on PostgreSQL
MAX_ID = 2**63 - 1
SKU_MAX = Variant._meta.get_field("sku").max_length


class VariantSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-variant-detail")
    product = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The product's id.")
    available = serializers.IntegerField(
        read_only=True, help_text="Units that can still be sold: the stock less the units in active holds."
    )
    external_source = serializers.ChoiceField(
        choices=Variant.Source.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Variant
        fields = [
            "id",
            "url",
            "product",
            "sku",
            "size",
            "color",
            "price",
            "stock",
            "available",
            "active",
            "external_source",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-product-detail")
    variants = VariantSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "url",
            "name",
            "category",
            "description",
            "active",
            "variants",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProductWriteSerializer(serializers.Serializer):
    """A new product (POST: `name` needed), or the fields a PATCH changes."""

    name = serializers.CharField(max_length=Product._meta.get_field("name").max_length)
    category = serializers.CharField(
        max_length=Product._meta.get_field("category").max_length, required=False, allow_blank=True
    )
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class VariantPatchSerializer(serializers.Serializer):
    """What a PATCH of a variant may change (a count in the shop, a new price, taking it off sale)."""

    stock = serializers.IntegerField(required=False, min_value=0, max_value=MAX_STOCK)
    price = serializers.DecimalField(required=False, **PRICE)
    active = serializers.BooleanField(required=False)


class VariantPushSerializer(serializers.Serializer):
    """An e-shop's push of one variant by its SKU. A new SKU needs a `price` and its product: `product`
    (an id) or `product_name` (the shop's product of that name, created when absent)."""

    product = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    product_name = serializers.CharField(
        required=False, max_length=Product._meta.get_field("name").max_length
    )
    size = serializers.CharField(
        required=False, allow_blank=True, max_length=Variant._meta.get_field("size").max_length
    )
    color = serializers.CharField(
        required=False, allow_blank=True, max_length=Variant._meta.get_field("color").max_length
    )
    price = serializers.DecimalField(required=False, **PRICE)
    stock = serializers.IntegerField(required=False, min_value=0, max_value=MAX_STOCK)
    active = serializers.BooleanField(required=False)
    external_source = serializers.ChoiceField(
        choices=Variant.Source.choices, required=False, allow_blank=True
    )
    external_id = serializers.CharField(
        required=False, allow_blank=True, max_length=Variant._meta.get_field("external_id").max_length
    )

    def validate(self, attrs):
        if "product" in attrs and "product_name" in attrs:
            raise serializers.ValidationError("Give the product's id or its name, not both.")
        return attrs


class ProductFilterSerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="In the name or a variant's SKU."
    )
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
    in_stock = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Some active variant has units available."
    )


class VariantFilterSerializer(serializers.Serializer):
    product = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="A product's id."
    )
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
    in_stock = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Units available (more than 0)."
    )
