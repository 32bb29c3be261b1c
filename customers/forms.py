"""Forms of the dashboard pages: they parse and validate what a person typed; services do the change."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Channel, Customer, Note, Shop, Tag
from customers.phones import InvalidPhoneNumber, normalize_phone
from customers.selectors import LIST_SORTS, customer_with_same
from customers.services import (
    CUSTOMER_EDITABLE_FIELDS,
    NOTE_MAX_CHARS,
    SHOP_SETTINGS_FIELDS,
    SHOP_TEXT_LIMITS,
)
from customers.text import clean_name

# Model choice labels are not translated in models.py; the pages show these instead.
SEGMENT_LABELS = {
    Customer.Segment.PROSPECT: _("Prospect"),
    Customer.Segment.ACTIVE: _("Active"),
    Customer.Segment.VIP: _("VIP"),
    Customer.Segment.INACTIVE: _("Inactive"),
}
CHANNEL_LABELS = {
    Channel.SMS: _("SMS"),
    Channel.WHATSAPP: _("WhatsApp"),
    Channel.EMAIL: _("E-mail"),
    Channel.PHONE: _("Phone call"),
    Channel.MANUAL: _("Manual entry"),
}
SORT_LABELS = {"last_contact": _("Last contact"), "name": _("Name"), "revenue": _("Revenue")}
LANGUAGE_CHOICES = [("fr", "Français"), ("en", "English"), ("es", "Español"), ("it", "Italiano"),
                    ("de", "Deutsch"), ("pt", "Português")]  # fmt: skip
PAGE_SIZES = (25, 50, 100)


class NoColonForm:
    """Labels without Django's trailing colon (screen readers read the label, not the punctuation), and
    ids of its own where two forms share a page (a label must point at one field)."""

    auto_id = "id_%s"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", self.auto_id)
        super().__init__(*args, **kwargs)


# Tags the messaging pipeline puts on the profiles it creates (webhooks.pipeline.new_customer_tags):
# stored as they are, so that filters and imports keep working, and shown in the page's language.
SYSTEM_TAGS = {"auto-created": _("auto-created"), "sms": "SMS", "whatsapp": "WhatsApp"}


class CustomerFilterForm(forms.Form):
    """The list's query string: search, filters, sort and page size. Bad values are ignored, not errors."""

    q = forms.CharField(required=False, label=_("Search"), max_length=200)
    segment = forms.ChoiceField(required=False, label=_("Segment"))
    channel = forms.ChoiceField(required=False, label=_("Channel"))
    tag = forms.ModelChoiceField(queryset=Tag.objects.none(), required=False, label=_("Tag"))
    attention = forms.BooleanField(required=False, label=_("Needs attention only"))
    sort = forms.ChoiceField(required=False, label=_("Sort by"))
    per_page = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=PAGE_SIZES[0], label=_("Per page"),
        choices=[(n, n) for n in PAGE_SIZES],
    )  # fmt: skip

    def __init__(self, data, *, shop: Shop):
        super().__init__(data, label_suffix="")
        self.fields["segment"].choices = [("", _("All segments")), *SEGMENT_LABELS.items()]
        self.fields["channel"].choices = [("", _("All channels")), *CHANNEL_LABELS.items()]
        self.fields["tag"].queryset = Tag.objects.filter(shop=shop)
        self.fields["tag"].label_from_instance = lambda tag: SYSTEM_TAGS.get(tag.name, tag.name)
        self.fields["tag"].empty_label = _("All tags")
        self.fields["sort"].choices = [(key, SORT_LABELS[key]) for key in LIST_SORTS]

    def params(self) -> dict:
        """The valid filters; an invalid one (a stale tag id, a typo in the URL) is dropped."""
        self.is_valid()
        params = {name: value for name, value in self.cleaned_data.items() if value not in (None, "", False)}
        params.setdefault("per_page", PAGE_SIZES[0])
        return params


class NoteForm(NoColonForm, forms.ModelForm):
    auto_id = "id_note_%s"

    body = forms.CharField(
        label=_("New note"), max_length=NOTE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 3})
    )

    class Meta:
        model = Note
        fields = ["body"]

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError(_("Write something first."))
        return body


class CustomerEditForm(NoColonForm, forms.ModelForm):
    """Edit a customer: the phone is read with the shop's country; a phone or e-mail that another
    customer of the shop already has is refused, and `duplicates` says who, for a link to them."""

    tags = forms.CharField(
        required=False, label=_("Tags"), help_text=_("Separated by commas."), max_length=1000
    )
    segment = forms.ChoiceField(
        label=_("Segment"), help_text=_("A segment chosen here is kept by the nightly recomputation.")
    )

    class Meta:
        model = Customer
        fields = list(CUSTOMER_EDITABLE_FIELDS)
        labels = {
            "first_name": _("First name"),
            "last_name": _("Last name"),
            "phone": _("Phone"),
            "email": _("E-mail"),
            "whatsapp_user_id": _("WhatsApp user id"),
            "preferred_channel": _("Preferred channel"),
            "language": _("Language"),
            "address_line1": _("Address"),
            "address_line2": _("Address (line 2)"),
            "postal_code": _("Postal code"),
            "city": _("City"),
            "country": _("Country (2 letters)"),
        }
        help_texts = {
            "phone": _("Any format: 06 98 76 54 32 or +33 6 98 76 54 32."),
            "whatsapp_user_id": _("The id WhatsApp gives a user who chose a username; usually empty."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicates = {}
        self.fields["segment"].choices = list(SEGMENT_LABELS.items())
        self.fields["segment"].initial = self.instance.segment
        self.fields["preferred_channel"].choices = [("", "—"), *CHANNEL_LABELS.items()]
        self.fields["language"] = forms.ChoiceField(
            required=False, label=_("Language"), choices=[("", "—"), *LANGUAGE_CHOICES]
        )
        if self.instance.pk:  # a new customer (the API's create) has no tags to read yet
            self.fields["tags"].initial = ", ".join(tag.name for tag in self.instance.tags.all())
        self.fields["phone"].widget.input_type = "tel"

    def clean_phone(self):
        raw = (self.cleaned_data.get("phone") or "").strip()
        if not raw:
            return None
        try:
            return normalize_phone(raw, self.instance.shop.country)
        except InvalidPhoneNumber as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_first_name(self):
        return clean_name(self.cleaned_data.get("first_name"))

    def clean_last_name(self):
        return clean_name(self.cleaned_data.get("last_name"))

    def clean_email(self):
        return (self.cleaned_data.get("email") or "").strip().lower() or None

    def clean_whatsapp_user_id(self):
        return (self.cleaned_data.get("whatsapp_user_id") or "").strip() or None

    def clean_country(self):
        return (self.cleaned_data.get("country") or "").strip().upper()

    def clean_tags(self):
        names = [name.strip() for name in self.cleaned_data.get("tags", "").split(",")]
        limit = Tag._meta.get_field("name").max_length
        if any(len(name) > limit for name in names):
            raise forms.ValidationError(_("A tag has at most %(limit)d characters.") % {"limit": limit})
        return list(dict.fromkeys(name for name in names if name))

    def clean(self):
        # Django skips the per-shop unique constraints (`shop` is not a form field): checked here, with
        # the other customer kept for a link; Customer.clean() still requires a name or an identifier.
        cleaned = super().clean()
        for field in ("phone", "email", "whatsapp_user_id"):
            other = customer_with_same(self.instance.shop, field, cleaned.get(field), self.instance.pk)
            if other is not None:
                self.duplicates[field] = other
                self.add_error(field, _("Another customer of this shop already has it."))
        return cleaned

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in CUSTOMER_EDITABLE_FIELDS}


def _shop_formfield(model_field, **kwargs):
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"  # a typed "boutique.fr" is an https site (Django 6's default)
    if model_field.name in SHOP_TEXT_LIMITS:
        kwargs["max_length"] = SHOP_TEXT_LIMITS[model_field.name]  # a TextField has none of its own
    return model_field.formfield(**kwargs)


class ShopSettingsForm(NoColonForm, forms.ModelForm):
    class Meta:
        formfield_callback = _shop_formfield
        model = Shop
        fields = list(SHOP_SETTINGS_FIELDS)
        labels = {
            "name": _("Name"),
            "language": _("Language"),
            "time_zone": _("Time zone"),
            "address": _("Address"),
            "opening_hours": _("Note on opening hours"),
            "website": _("Website"),
            "contact_phone": _("Contact phone"),
            "auto_replies_enabled": _("Automatic replies enabled"),
            "auto_reply_pause_minutes": _("Pause automatic replies after a person writes (minutes)"),
            "vip_min_spent": _("VIP from this lifetime spend"),
            "vip_min_orders": _("VIP from this number of orders"),
            "inactive_after_days": _("Inactive after this many days without orders or messages"),
        }
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "opening_hours": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"] = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)

    def clean_name(self):
        name = clean_name(self.cleaned_data["name"])
        if not name:  # nothing but invisible characters
            raise forms.ValidationError(self.fields["name"].error_messages["required"])
        return name

    def clean_time_zone(self):
        name = self.cleaned_data["time_zone"].strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise forms.ValidationError(_("Unknown time zone, e.g. Europe/Paris.")) from exc
        return name


class ShopSettingsPageForm(ShopSettingsForm):
    """The settings page's form: the free-text hours note is edited with the weekly hours, on the hours
    and facts page (shopinfo); the API still reads and writes it as `opening_hours`."""

    class Meta(ShopSettingsForm.Meta):
        fields = [name for name in SHOP_SETTINGS_FIELDS if name != "opening_hours"]


class StaffMessageForm(NoColonForm, forms.Form):
    """A message a person sends to a customer (sent by `webhooks.staff.staff_message_send`)."""

    auto_id = "id_send_%s"

    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("sms", _("SMS")), ("whatsapp", _("WhatsApp"))], widget=forms.RadioSelect
    )
    body = forms.CharField(label=_("Message"), max_length=1600, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError(_("Write something first."))
        return body


class ConfirmForm(NoColonForm, forms.Form):
    confirm = forms.BooleanField(label=_("Yes, I understand this cannot be undone."))


# What each scope allows, in the owners' words (the API keys page); ordered, each includes the one before.
API_KEY_SCOPE_LABELS = {
    "read": _("Read: customers, notes, orders, tags"),
    "write": _("Read and write: also create and change them, add notes, push orders"),
    "owner": _("Owner: also erase, export and merge customers, change the shop's settings"),
}


# The same, in a word or two (lists). Not the model's labels: "read" is already the French "lu" (a message
# that was read).
API_KEY_SCOPE_SHORT = {"read": _("read only"), "write": _("read and write"), "owner": _("owner scope")}


class ApiKeyForm(NoColonForm, forms.Form):
    auto_id = "id_key_%s"

    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("Who uses it, e.g. “E-shop orders” or “Zapier”.")
    )
    scope = forms.ChoiceField(
        label=_("Access"),
        choices=list(API_KEY_SCOPE_LABELS.items()),
        initial="read",
        widget=forms.RadioSelect,
    )

    def clean_name(self):
        name = clean_name(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError(self.fields["name"].error_messages["required"])
        return name
