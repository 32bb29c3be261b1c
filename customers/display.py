"""How values read on the pages and in the admin: phones in the shop's country's format, money with its
currency in the page's language, codes (language, source) as words, addresses without holes.

Pure functions of the value and the active language, shared by the templates' filters
(customers/templatetags/dashboard.py) and the admin's columns, so that both spell a value one way.
"""

from decimal import Decimal, InvalidOperation

import phonenumbers
from django.utils import formats, numberformat
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext_lazy as _

# Symbols of the currencies shops use; any other is shown by its ISO code.
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF", "CAD": "$ CA", "JPY": "¥"}
NBSP = "\u00a0"

SOURCE_LABELS = {
    "sms": _("SMS"),
    "whatsapp": _("WhatsApp"),
    "email": _("E-mail"),
    "phone": _("Phone call"),
    "manual": _("Manual entry"),
    "import": _("Import"),
    "api": _("REST API"),
}


def phone_display(value: str | None, country: str = "FR") -> str:
    """`+33611274959` as `06 11 27 49 59` for a shop in France; a number of another country stays in
    its E.164 form (`+447911123456`), which says which country it is."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value  # not E.164 (an old import): shown as stored rather than hidden
    region = phonenumbers.region_code_for_number(number)
    if region and region == (country or "").upper():
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return value


def money_display(amount, currency: str = "EUR") -> str:
    """`1916.1` as `1 916,10 €` in French and `€1,916.10` in English: the language's separators, the
    currency's symbol where that language puts it."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return str(amount)
    number = numberformat.format(
        value,
        formats.get_format("DECIMAL_SEPARATOR"),
        decimal_pos=2,
        grouping=3,
        thousand_sep=formats.get_format("THOUSAND_SEPARATOR"),
        force_grouping=True,
    ).replace(" ", NBSP)
    code = (currency or "EUR").upper()
    symbol = CURRENCY_SYMBOLS.get(code, code)
    if (get_language() or "fr").startswith("en"):
        if value < 0:
            return f"-{symbol}{number.lstrip('-')}" if len(symbol) == 1 else f"{number}{NBSP}{symbol}"
        return f"{symbol}{number}" if len(symbol) == 1 else f"{number}{NBSP}{symbol}"
    return f"{number}{NBSP}{symbol}"  # French (and most of Europe): after the number


# The currency of a shop's figures (revenue, average basket): its country's. Orders carry their own.
COUNTRY_CURRENCIES = {"CH": "CHF", "GB": "GBP", "US": "USD", "CA": "CAD", "JP": "JPY"}


def shop_currency(shop) -> str:
    return COUNTRY_CURRENCIES.get((getattr(shop, "country", "") or "").upper(), "EUR")


def language_name(code: str | None) -> str:
    """`fr` as `français` (in the page's language); an unknown code is shown as it is."""
    if not code:
        return ""
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def source_label(value: str | None) -> str:
    """How the profile arrived, in words (`whatsapp` → WhatsApp, `import` → Import)."""
    if not value:
        return ""
    return str(SOURCE_LABELS.get(value, value))


def address_lines(customer) -> list[str]:
    """The postal address's non-empty lines: no blank line and no lone country code when parts miss.
    The country is written out only with a street or a city, and in words."""
    town = " ".join(part for part in (customer.postal_code, customer.city) if part)
    lines = [line for line in (customer.address_line1, customer.address_line2, town) if line]
    if lines and customer.country:
        lines.append(country_name(customer.country))
    return lines


def country_name(code: str) -> str:
    """`FR` as `France`; phonenumbers carries no names, so the few codes shops meet are listed."""
    return str(COUNTRY_NAMES.get(code.upper(), code.upper()))


COUNTRY_NAMES = {
    "FR": _("France"),
    "BE": _("Belgium"),
    "CH": _("Switzerland"),
    "LU": _("Luxembourg"),
    "MC": _("Monaco"),
    "DE": _("Germany"),
    "ES": _("Spain"),
    "IT": _("Italy"),
    "GB": _("United Kingdom"),
    "US": _("United States"),
    "CA": _("Canada"),
    "PT": _("Portugal"),
    "NL": _("Netherlands"),
}
