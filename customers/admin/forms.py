"""The admin's model forms: per-shop uniqueness said as field errors, tags of the row's shop only, names
cleaned of invisible characters."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Order, Tag
from customers.text import clean_name


def _drop_constraint_errors(form, *names):
    """Drop Django's generic "Constraint … is violated" errors once a field error says it better."""
    messages = {
        c.get_violation_error_message() for c in form._meta.model._meta.constraints if c.name in names
    }
    errors = form._errors.get(NON_FIELD_ERRORS)
    if errors:
        kept = [e for e in errors if e not in messages]
        if kept:
            form._errors[NON_FIELD_ERRORS] = form.error_class(kept, error_class="nonfield")
        else:
            del form._errors[NON_FIELD_ERRORS]


def _taken(model, obj, **lookup) -> bool:
    return model.objects.filter(**lookup).exclude(pk=obj.pk).exists()


def _check_unique_in_shop(form, field, message, lookup=None):
    """A field error for a value already used in the row's shop.

    Django skips the per-shop UniqueConstraints when `shop` is not a form field (read-only on change,
    inline forms), and the database would then answer with an IntegrityError, a 500.
    """
    obj = form.instance
    value = getattr(obj, field)
    if not (obj.shop_id and value) or field in form._errors:
        return
    if _taken(type(obj), obj, shop_id=obj.shop_id, **{lookup or field: value}):
        form.add_error(field, message)


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "shop",
            "first_name",
            "last_name",
            "phone",
            "email",
            "whatsapp_user_id",
            "segment",
            "segment_manual",
            "tags",
            "preferred_channel",
            "language",
            "needs_attention",
            "opted_out_at",
            "address_line1",
            "address_line2",
            "postal_code",
            "city",
            "country",
        ]
        # The model's help texts are English notes for developers; the back office reads these.
        help_texts = {
            "whatsapp_user_id": _("The id WhatsApp gives a user who chose a username; usually empty."),
            "phone": _("Any format: 06 98 76 54 32 or +33 6 98 76 54 32."),
        }

    def clean_first_name(self):
        return clean_name(self.cleaned_data.get("first_name"))

    def clean_last_name(self):
        return clean_name(self.cleaned_data.get("last_name"))

    def clean(self):
        cleaned = super().clean()
        shop = cleaned.get("shop") or (self.instance.shop if self.instance.shop_id else None)
        tags = cleaned.get("tags")
        if shop and tags and any(tag.shop_id != shop.pk for tag in tags):
            self.add_error("tags", gettext("Use tags of this customer's shop only."))
        return cleaned

    def _post_clean(self):
        super()._post_clean()  # Customer.clean() normalises the phone and e-mail with the shop's country
        _check_unique_in_shop(
            self, "phone", gettext("A customer of this shop already has this phone number.")
        )
        _check_unique_in_shop(
            self, "email", gettext("A customer of this shop already has this e-mail."), "email__iexact"
        )
        _check_unique_in_shop(
            self, "whatsapp_user_id", gettext("A customer of this shop already has this WhatsApp id.")
        )
        _drop_constraint_errors(
            self,
            "customer_phone_unique_per_shop",
            "customer_email_unique_per_shop",
            "customer_wa_user_unique_per_shop",
        )


class OrderInlineForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ["reference", "amount", "currency", "placed_at"]

    def _post_clean(self):
        customer = getattr(self.instance, "customer", None)
        if customer is not None and customer.shop_id:
            self.instance.shop_id = customer.shop_id
        super()._post_clean()
        _check_unique_in_shop(self, "reference", "This shop already has an order with this reference.")
        _drop_constraint_errors(self, "order_reference_unique")


class OrderForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ["shop", "customer", "reference", "amount", "currency", "placed_at"]

    def clean(self):
        cleaned = super().clean()
        shop = cleaned.get("shop") or (self.instance.shop if self.instance.shop_id else None)
        customer = cleaned.get("customer")
        if shop and customer and customer.shop_id != shop.pk:
            self.add_error("customer", "This customer belongs to another shop.")
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        _check_unique_in_shop(self, "reference", "This shop already has an order with this reference.")


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["shop", "name"]

    def _post_clean(self):
        super()._post_clean()
        _check_unique_in_shop(self, "name", "This shop already has this tag.")


class ShopForm(forms.ModelForm):
    """The shop's admin form (ShopAdmin gives it the model and fields)."""

    def clean_name(self):
        name = clean_name(self.cleaned_data.get("name"))
        if not name:  # nothing but invisible characters
            raise forms.ValidationError(self.fields["name"].error_messages["required"])
        return name
