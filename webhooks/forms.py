"""Forms of the owners' pages for saved replies and WhatsApp templates (parse and validate only)."""

import re

from django import forms
from django.conf import settings
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from customers.forms import NoColonForm
from webhooks.models import WhatsAppTemplate
from webhooks.saved_replies import PLACEHOLDERS, unknown_placeholders

MAX_REPLY_CHARS = 1600  # the send box's limit (StaffMessageForm.body)
_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
PLACEHOLDER_NAMES = ", ".join("{" + p + "}" for p in PLACEHOLDERS)


class SavedReplyForm(NoColonForm, forms.Form):
    """A name and one text per language of the site; at least one text."""

    auto_id = "id_reply_%s"
    name = forms.CharField(label=_("Name"), max_length=80)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, _endonym in settings.LANGUAGES:
            self.fields[f"text_{code}"] = forms.CharField(
                label=_("Text (%(language)s)") % {"language": get_language_info(code)["name_translated"]},
                max_length=MAX_REPLY_CHARS,
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("Placeholders: %(names)s.") % {"names": PLACEHOLDER_NAMES},
            )

    @staticmethod
    def initial_for(reply) -> dict:
        return {"name": reply.name, **{f"text_{code}": text for code, text in reply.texts.items()}}

    def texts(self) -> dict[str, str]:
        return {code: self.cleaned_data.get(f"text_{code}", "").strip() for code, _ in settings.LANGUAGES}

    def clean(self):
        cleaned = super().clean()
        texts = self.texts() if not self.errors else {}
        if not self.errors and not any(texts.values()):
            raise forms.ValidationError(_("Write the text in at least one language."))
        for code, text in texts.items():
            unknown = unknown_placeholders(text)
            if unknown:
                self.add_error(
                    f"text_{code}",
                    _("Unknown placeholder: %(names)s.")
                    % {"names": ", ".join("{" + n + "}" for n in unknown)},
                )
        return cleaned


class WhatsAppTemplateForm(NoColonForm, forms.ModelForm):
    """A template entered by hand, or a fetched one whose parameters the owner maps to placeholders."""

    auto_id = "id_template_%s"
    parameters_text = forms.CharField(
        label=_("Parameters"),
        required=False,
        help_text=_(
            "What fills {{1}}, {{2}}…, in order, separated by commas: a placeholder name (first_name, "
            "shop_hours, shop_address…) or nothing for a value typed when sending."
        ),
    )

    class Meta:
        model = WhatsAppTemplate
        fields = ["provider", "name", "language", "content_sid", "body"]
        labels = {
            "provider": _("Provider"),
            "name": _("Template name"),
            "language": _("Language code"),
            "content_sid": _("Twilio Content SID"),
            "body": _("Text as approved"),
        }
        help_texts = {
            "language": _("As the provider has it: fr, en_US…"),
            "content_sid": _("Twilio only: HX followed by 32 characters."),
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [("meta", _("Meta WhatsApp Cloud API")), ("twilio", _("Twilio"))]
        if self.instance.pk:
            self.fields["parameters_text"].initial = ", ".join(self.instance.parameters or [])

    def clean_language(self):
        language = self.cleaned_data["language"].strip()
        if not _LANGUAGE.match(language):
            raise forms.ValidationError(_("Enter a language code such as fr or en_US."))
        return language

    def clean_parameters_text(self):
        raw = self.cleaned_data["parameters_text"].strip()
        sources = [part.strip().strip("{}") for part in raw.split(",")] if raw else []
        unknown = [s for s in sources if s and s not in PLACEHOLDERS]
        if unknown:
            raise forms.ValidationError(_("Unknown placeholder: %(names)s.") % {"names": ", ".join(unknown)})
        return sources

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("provider") == "twilio" and not _CONTENT_SID.match(cleaned.get("content_sid") or ""):
            self.add_error("content_sid", _("Twilio templates need their Content SID (HX…)."))
        if cleaned.get("provider") == "meta":
            cleaned["content_sid"] = ""
        return cleaned

    def save(self, commit=True):
        self.instance.parameters = self.cleaned_data["parameters_text"]
        return super().save(commit=commit)


class WabaForm(NoColonForm, forms.Form):
    auto_id = "id_waba_%s"
    waba_id = forms.RegexField(
        label=_("WhatsApp Business Account id"),
        regex=r"^\d{5,32}$",
        required=False,
        help_text=_("Digits, from Meta's WhatsApp Manager; needed to fetch Meta templates."),
        error_messages={"invalid": _("Enter the account id's digits.")},
    )
