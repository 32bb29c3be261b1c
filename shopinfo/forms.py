"""The owner's form for hours, facts and signature, and the one for a holiday or exceptional opening.

Hours are typed one weekday per field as people write them ("10h-13h, 14h-19h", "closed"): parsed by
shopinfo.hours_parse, and shown back in its canonical form so that the owner sees what was understood.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.forms import LANGUAGE_CHOICES, NoColonForm
from shopinfo.hours_parse import format_ranges_input, parse_ranges
from shopinfo.models import FACT_KEYS, FACT_MAX_CHARS, ShopProfile
from shopinfo.selectors import overlapping_exception, ranges_from_json, weekly_from_json

WEEKDAYS = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)
FACT_LABELS = {
    "delivery": _("Delivery"),
    "payment": _("Payment"),
    "services": _("Services"),
    "returns": _("Returns and exchanges"),
    "parking": _("Parking and access"),
}
FACT_HELP = {
    "delivery": _("Countries, delays, prices, e.g. “France in 48 h, €5.90, free from €80”."),
    "payment": _("Cards, cash, payment in instalments…"),
    "services": _("Alterations, gift wrapping, appointments…"),
    "returns": _("How long, with what, refund or exchange."),
    "parking": _("Nearest car park, public transport, step-free access."),
}
HOURS_HELP = _("e.g. 10:00-19:00 or 10h-13h, 14h-19h; empty or “closed” when closed.")
NOTE_MAX_CHARS = 2000


def day_field(day: int) -> str:
    return f"day_{day}"


def version_field(key: str, lang: str) -> str:
    return f"{key}_{lang}"


class RangesField(forms.CharField):
    """One day's ranges as typed; cleans to a tuple of TimeRange (empty: closed)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 120)
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value)
        try:
            return parse_ranges(text)
        except ValueError as exc:
            # The parser's own reason is English and quotes the text accent-free: the owner gets the rule.
            raise forms.ValidationError(
                _(
                    "Could not read these hours. Write opening and closing times like 10:00-19:00, several "
                    "ranges separated by commas, or “closed”."
                ),
                code="hours",
            ) from exc


class ShopInfoForm(NoColonForm, forms.Form):
    hours_note = forms.CharField(
        label=_("Anything else about your hours"),
        required=False,
        max_length=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "In your language; added to hours answers in that language, e.g. “Open on Sundays in December”."
        ),
    )
    signature = forms.CharField(
        label=_("Signature"),
        required=False,
        max_length=80,
        help_text=_("Ends every automatic reply, e.g. “Lou, Maison Coccinelle”; empty: no signature."),
    )
    map_url = forms.URLField(
        label=_("Map link"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("Sent with the address; empty: a Google Maps search for the address."),
    )

    def __init__(self, *args, shop, profile: ShopProfile, **kwargs):
        self.shop = shop
        super().__init__(*args, initial=self._initial(shop, profile), **kwargs)
        for day, name in enumerate(WEEKDAYS):
            self.fields[day_field(day)] = RangesField(label=name, help_text=HOURS_HELP if day == 0 else "")
        self.other_languages = [(code, name) for code, name in LANGUAGE_CHOICES if code != shop.language]
        for key in FACT_KEYS:
            self.fields[key] = forms.CharField(
                label=FACT_LABELS[key],
                required=False,
                max_length=FACT_MAX_CHARS,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=FACT_HELP[key],
            )
            for code, name in self.other_languages:
                self.fields[version_field(key, code)] = forms.CharField(
                    label=f"{FACT_LABELS[key]} ({name})",
                    required=False,
                    max_length=FACT_MAX_CHARS,
                    widget=forms.Textarea(attrs={"rows": 2}),
                )

    @staticmethod
    def _initial(shop, profile: ShopProfile) -> dict:
        initial = {
            "hours_note": shop.opening_hours,
            "signature": profile.signature,
            "map_url": profile.map_url,
        }
        weekly = weekly_from_json(profile.weekly_hours)
        for day in range(7):
            # A closed day of a given week reads "closed" (the parser reads it back in six languages).
            initial[day_field(day)] = (
                (format_ranges_input(weekly[day]) or gettext("closed")) if weekly else ""
            )
        for key in FACT_KEYS:
            initial[key] = getattr(profile, key)
            for code, text in (profile.translations.get(key) or {}).items():
                initial[version_field(key, code)] = text
        return initial

    def clean(self):
        # A post without the week's boxes is not this page's form (a script, a stale page): saving it
        # would wipe the hours, the facts and the signature.
        missing = [name for name in self.fields if name not in self.data]
        if missing:
            raise forms.ValidationError(_("This form is incomplete: reload the page and try again."))
        return super().clean()

    # What the template lays out: the week, then each fact with its versions folded away.
    def day_fields(self):
        return [self[day_field(day)] for day in range(7)]

    def fact_fields(self):
        return [
            (self[key], [self[version_field(key, code)] for code, _ in self.other_languages])
            for key in FACT_KEYS
        ]

    def weekly(self):
        """The week as cleaned: None when every day is empty (the owner gave no weekly hours)."""
        week = tuple(self.cleaned_data[day_field(day)] for day in range(7))
        return week if any(week) else None

    def facts(self) -> dict[str, str]:
        return {key: self.cleaned_data[key] for key in FACT_KEYS}

    def translations(self) -> dict[str, dict[str, str]]:
        return {
            key: {code: self.cleaned_data[version_field(key, code)] for code, _ in self.other_languages}
            for key in FACT_KEYS
        }


class HoursExceptionForm(NoColonForm, forms.Form):
    auto_id = "id_exception_%s"

    first_day = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: that one day."),
    )
    ranges = RangesField(label=_("Hours"), help_text=_("Empty: closed all day."))
    label = forms.CharField(
        label=_("Label"), required=False, max_length=80, help_text=_("e.g. Christmas, Stocktaking.")
    )

    def __init__(self, *args, shop=None, **kwargs):
        self.shop = shop
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and not last:
            cleaned["last_day"] = last = first
        if first and last:
            check_exception_days(self, first, last, self.shop)
        return cleaned


# Holidays are entered for the coming years: a date far outside is a typo (0001, 9999).
EXCEPTION_YEARS_BACK, EXCEPTION_YEARS_AHEAD = 1, 3


def check_exception_days(form, first, last, shop, exclude_pk=None) -> None:
    """The errors of an exception's days: in order, within the years one plans for, not over another
    exception of the shop (which of two overlapping ones wins would be a guess)."""
    today = timezone.localdate()
    if last < first:
        form.add_error("last_day", _("The last day comes before the first."))
    elif first.year < today.year - EXCEPTION_YEARS_BACK or last.year > today.year + EXCEPTION_YEARS_AHEAD:
        form.add_error(
            "first_day",
            _("Give a date between %(first)s and %(last)s.")
            % {"first": today.year - EXCEPTION_YEARS_BACK, "last": today.year + EXCEPTION_YEARS_AHEAD},
        )
    elif shop is not None:
        other = overlapping_exception(shop, first, last, exclude_pk)
        if other is not None:
            form.add_error(
                "first_day",
                _("These days overlap another exception: %(other)s (%(first)s – %(last)s).")
                % {"other": other, "first": other.first_day, "last": other.last_day},
            )


def exception_ranges_text(exception) -> str:
    return format_ranges_input(ranges_from_json(exception.ranges))
