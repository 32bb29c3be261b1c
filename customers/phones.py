"""Phone numbers in, E.164 out, with Google's libphonenumber rules (the `phonenumbers` package).

Hand-written regexes get national prefixes, trunk zeros and country lengths wrong; libphonenumber carries
the numbering plans of every country and is updated with them. The shops' own receiving addresses
(ChannelAddress) are read here too, so that the model, its migration and the webhooks' shop lookup
spell them one way.
"""

import re

import phonenumbers
from django.utils.translation import gettext as _

WHATSAPP_PREFIX = "whatsapp:"
_SEPARATORS = re.compile(r"[\s.\-()/\u00a0]+")


class InvalidPhoneNumber(ValueError):
    """The input is not a phone number that can be stored; the message says why, for a person to read."""


def normalize_phone(raw: str, country: str = "FR") -> str:
    """Return `raw` as E.164 (`+33698765432`), reading local formats with the shop's `country`.

    Accepts `06 98 76 54 32`, `+33 6 98 76 54 32`, `0033698765432`, `whatsapp:+33698765432` and WhatsApp's
    bare `33698765432`. Raises InvalidPhoneNumber for anything that is not a valid number.
    """
    if raw is None:
        raise InvalidPhoneNumber(_("No phone number given."))
    text = _strip_whatsapp(str(raw))
    compact = _SEPARATORS.sub("", text)
    if not compact:
        raise InvalidPhoneNumber(_("No phone number given."))
    if not re.fullmatch(r"\+?\d+", compact):
        if re.search(r"[A-Za-z]", compact):
            raise InvalidPhoneNumber(
                _("“%(text)s” is a sender name, not a phone number.") % {"text": _shorten(text)}
            )
        raise InvalidPhoneNumber(_("“%(text)s” is not a phone number.") % {"text": _shorten(text)})
    for candidate, region in _candidates(compact, country.upper()):
        number = _parse(candidate, region)
        if number is not None and phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # Read by the person who typed it (forms, admin, import reports): in the page's language.
    raise InvalidPhoneNumber(
        _("“%(text)s” is not a valid phone number for %(country)s or abroad.")
        % {"text": _shorten(text), "country": country.upper()}
    )


def try_normalize_phone(raw: str, country: str = "FR") -> str | None:
    """normalize_phone, or None when the input is not a phone number (for search boxes and lookups)."""
    try:
        return normalize_phone(raw, country)
    except InvalidPhoneNumber:
        return None


# WhatsApp ids (`wa_id`, Twilio's `WaId`) are the number as WhatsApp registered it, which for two
# countries is not the number's E.164 form: libphonenumber rightly rejects them, and a real customer
# would be dropped or become a second profile.
_MEXICO_LEGACY_MOBILE = re.compile(r"^521(\d{10})$")  # the `1` Mexico dropped from mobiles in 2019
# Brazil added a ninth digit to mobiles (2012-2016); WhatsApp kept accounts registered before with the
# 8-digit form. Mobile subscriber numbers start with 6 to 9; 2 to 5 are landlines, valid as they are.
_BRAZIL_EIGHT_DIGIT_MOBILE = re.compile(r"^55([1-9]\d)([6-9]\d{7})$")


def normalize_whatsapp_id(raw: str) -> str | None:
    """The E.164 phone of a WhatsApp id as WhatsApp writes it (`5215512345678`, `554188887777`), or None.

    Mexico's `521…` is `+52…`; Brazil's 12-digit mobile gains its leading 9 (`+55 41 98888 7777`), so
    both spellings find one customer. Any other id is read as an international number. The id itself
    stays what a send must address (webhooks.outbound), since that is the account WhatsApp knows.
    """
    digits = _strip_whatsapp(str(raw or "")).lstrip("+")
    if not digits.isascii() or not digits.isdigit():
        return None
    mexico = _MEXICO_LEGACY_MOBILE.match(digits)
    if mexico:
        return try_normalize_phone("+52" + mexico.group(1))
    brazil = _BRAZIL_EIGHT_DIGIT_MOBILE.match(digits)
    if brazil:
        return try_normalize_phone(f"+55{brazil.group(1)}9{brazil.group(2)}")
    return try_normalize_phone("+" + digits)


class InvalidChannelAddress(ValueError):
    """A shop's receiving address that cannot be stored; the message says what is expected."""


# Twilio also receives on short codes (3 to 8 digits, no trunk zero) and sends from messaging services.
_SHORT_CODE = re.compile(r"[1-9]\d{2,7}")
_MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")


def normalize_twilio_address(raw: str, country: str = "FR") -> str:
    """A Twilio receiving address in its one stored spelling.

    A phone number in any local or international spelling, with or without `whatsapp:` (Twilio sends
    SMS and WhatsApp from the same number), becomes E.164; a short code becomes its digits; a messaging
    service SID (`MG…`) is kept as given. Anything else raises InvalidChannelAddress: two spellings of
    one number must never be two addresses, or a shop could claim another shop's number.
    """
    text = _strip_whatsapp(str(raw or ""))
    phone = try_normalize_phone(text, country)
    if phone:
        return phone
    compact = _SEPARATORS.sub("", text)
    if _SHORT_CODE.fullmatch(compact):
        return compact
    if _MESSAGING_SERVICE_SID.fullmatch(text):
        return text
    raise InvalidChannelAddress(
        f"“{_shorten(text)}” is not a Twilio number: give a phone number (+33612345678), a short code "
        "(digits) or a messaging service SID (MG…)."
    )


def normalize_meta_phone_number_id(raw: str) -> str:
    """A Meta WhatsApp phone_number_id as its digits (spaces and separators pasted from a console dropped)."""
    compact = _SEPARATORS.sub("", str(raw or ""))
    if not compact.isascii() or not compact.isdigit():
        raise InvalidChannelAddress(
            f"“{_shorten(str(raw or '').strip())}” is not a Meta phone number ID: it is only digits "
            "(WhatsApp Manager → Phone numbers)."
        )
    return compact


def normalize_channel_address(provider: str, raw: str, country: str = "FR") -> str:
    """The stored spelling of a shop's receiving address for `provider` ("twilio" or "meta")."""
    if provider == "meta":
        return normalize_meta_phone_number_id(raw)
    if provider == "twilio":
        return normalize_twilio_address(raw, country)
    raise InvalidChannelAddress(f"Unknown provider {provider!r}.")


def _strip_whatsapp(text: str) -> str:
    text = text.strip()
    if text.lower().startswith(WHATSAPP_PREFIX):
        return text[len(WHATSAPP_PREFIX) :].strip()
    return text


def _candidates(compact: str, country: str):
    """Readings of a digit string, most likely first.

    WhatsApp sends international numbers without the `+` (`33698765432`), which a national reading
    would reject, so bare digits not starting with a trunk zero are also tried as international.
    """
    if compact.startswith("+"):
        yield compact, None
        return
    yield compact, country
    if not compact.startswith("0"):
        yield "+" + compact, None


def _parse(candidate: str, region: str | None):
    try:
        return phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
