"""Phone numbers in, E.164 out, with Google's libphonenumber rules (the `phonenumbers` package).

Hand-written regexes get national prefixes, trunk zeros and country lengths wrong; libphonenumber carries
the numbering plans of every country and is updated with them.
"""

import re

import phonenumbers

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
        raise InvalidPhoneNumber("No phone number given.")
    text = str(raw).strip()
    if text.lower().startswith(WHATSAPP_PREFIX):
        text = text[len(WHATSAPP_PREFIX) :].strip()
    compact = _SEPARATORS.sub("", text)
    if not compact:
        raise InvalidPhoneNumber("No phone number given.")
    if not re.fullmatch(r"\+?\d+", compact):
        if re.search(r"[A-Za-z]", compact):
            raise InvalidPhoneNumber(f"“{_shorten(text)}” is a sender name, not a phone number.")
        raise InvalidPhoneNumber(f"“{_shorten(text)}” is not a phone number.")
    for candidate, region in _candidates(compact, country.upper()):
        number = _parse(candidate, region)
        if number is not None and phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhoneNumber(
        f"“{_shorten(text)}” is not a valid phone number for {country.upper()} or abroad."
    )


def try_normalize_phone(raw: str, country: str = "FR") -> str | None:
    """normalize_phone, or None when the input is not a phone number (for search boxes and lookups)."""
    try:
        return normalize_phone(raw, country)
    except InvalidPhoneNumber:
        return None


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
