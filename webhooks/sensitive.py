"""Payment card numbers and IBANs masked out of what customers write, before anything stores it.

A customer who texts her card number to a boutique expects it to reach a person, not to be kept in
clear in the database, the CRM, exports and logs. `mask_text` keeps what a person needs to recognise
the card or account ("4970 •••• •••• 7890", "FR76 •••• … 189") and drops the rest; `mask_payload`
does the same to every string of a webhook's JSON-like payload.

Only numbers that pass their check are masked (Luhn for cards, ISO 13616 mod-97 for IBANs), so that
phone numbers, order numbers and dates stay readable; except that a number laid out as a card in a
message that says it is one ("mon numéro de carte est le 4970 1012 3456 7890") is masked even when a
digit is wrong: the customer meant to send their card, and a typo does not make it less theirs.
Pure and fast: the webhook edge runs it on every message, and text with fewer than 12 digits returns
after one cheap count, without any regex.
"""

import re
from collections.abc import Container
from typing import Any

BULLETS = "••••"  # U+2022 x4: also what the reply engine looks for to know a number was masked
CARD, IBAN = "card", "iban"
# Top-level key of a stored payload listing what was masked in it (["card"], ["card", "iban"]).
MASKED_KEY = "_masked"
MIN_DIGITS = 12  # fewer digits in a text: no card (13+) and no IBAN (the Dutch one has 12) can be in it
_ASCII_DIGITS = "0123456789"

# Between the digits of a card: one or two spaces (plain, no-break, narrow no-break), or a dash with
# optional spaces around it. Never a newline: two numbers on two lines are two numbers.
_SPACE = "[ \u00a0\u202f]"
# The dash first: " - " is one separator, not a space and then a dash (which would split an empty group).
_CARD_SEP = f"(?:{_SPACE}?-{_SPACE}?|{_SPACE}{{1,2}})"
# A run of digits and separators, not glued to a digit or a "+" (an international phone number); glued to
# letters it may still be a card ("CB4111…", "…1111exp"): the Luhn check decides. Each run is checked as
# a whole, then by its leading groups (a card followed by its expiry or code on the same line).
_CARD_RUN = re.compile(f"(?<![0-9+])[0-9]+(?:{_CARD_SEP}[0-9]+)*(?![0-9])")
_SEPARATORS = re.compile(_CARD_SEP)
# Every card and every IBAN has ten digits or more in a row, at most three separators apart (the
# Dutch IBAN's account number is exactly ten): a long text whose digits are scattered (sizes, prices,
# a date) is let through on this one search, a quarter of the cost of the two below.
_NEAR_DIGITS = re.compile("[0-9](?:[ \u00a0\u202f-]{0,3}[0-9]){9}")
# Two letters, two check digits, then alphanumerics, spaces allowed between any of them; the run is cut
# back group by group until it validates (the words after an IBAN are alphanumerics too).
_IBAN_RUN = re.compile(
    f"(?<![0-9A-Za-z])[A-Za-z]{{2}}[0-9]{{2}}(?:{_SPACE}?[0-9A-Za-z]){{11,60}}(?![0-9A-Za-z])"
)
_IBAN_BBAN = (11, 30)  # characters after the check digits: Norway has 11, the longest 30
# A real BBAN is mostly digits (account and bank numbers): asking for 8 keeps words that happen to
# follow a "ab12" out of the 1-in-97 chance of passing mod-97.
_IBAN_MIN_BBAN_DIGITS = 8
# Numbers that pass Luhn by design and are no payment card: a French company's SIRET/SIREN, a phone's IMEI.
_NOT_A_CARD_BEFORE = re.compile(r"(?i)\b(?:siret|siren|imei)\W{0,5}$")
# A gift card's or a loyalty card's number is what the shop needs to read: "carte" alone does not make it
# a payment card (a Luhn-valid one is still masked).
_OTHER_CARDS = re.compile(
    r"(?i)\b(?:cadeaux?|fid[eé]lit[eé]|gift|regalo|gutschein|buono|loyalty|fidelity|fidelidad|fedelt[aà]"
    r"|kundenkarte|vale|presente|membre|member|abonnement)\b"
)
# The customer says the number is a card (accent-free or not): a card layout is then enough.
_CARD_WORDS = re.compile(
    r"(?i)\b(?:cartes?|cards?|cb|visa|mastercard|master card|amex|tarjeta|carta|karte|kreditkarte"
    r"|cart[aã]o|kartennummer)\b"
)


def mask_text(text: str) -> tuple[str, frozenset[str]]:
    """`text` with every Luhn-valid card number and mod-97-valid IBAN masked, and the kinds found
    ({"card", "iban"}, empty when nothing was masked: then `text` itself is returned)."""
    if len(text) < MIN_DIGITS or _digit_count(text) < MIN_DIGITS or not _NEAR_DIGITS.search(text):
        return text, frozenset()
    kinds: set[str] = set()
    # IBANs first: their digits would otherwise be read as a card number.
    masked = _IBAN_RUN.sub(lambda match: _iban_or_same(match.group(0), kinds), text)
    said_card = bool(_CARD_WORDS.search(text)) and not _OTHER_CARDS.search(text)
    masked = _CARD_RUN.sub(lambda match: _card_match(match, kinds, said_card), masked)
    return (masked, frozenset(kinds)) if kinds else (text, frozenset())


def mask_payload(payload: Any, *, keep: Container[str] = ()) -> tuple[Any, frozenset[str]]:
    """A copy of a JSON-like value (dicts, lists, strings, numbers) with every string masked
    (mask_text), and the kinds found. The values of the dict keys in `keep` (a provider's ids and
    addresses, which a lookup needs exactly as sent) are left alone, whatever their depth. When nothing
    is masked, `payload` itself is returned, not a copy."""
    if isinstance(payload, str):
        return mask_text(payload)
    if isinstance(payload, dict):
        return _mask_dict(payload, keep)
    if isinstance(payload, list | tuple):
        return _mask_list(payload, keep)
    return payload, frozenset()


def mask_stored(payload: dict, *, keep: Container[str] = ()) -> dict:
    """`payload` as it may be stored: masked (mask_payload), with MASKED_KEY listing the kinds masked
    in it now or before (a payload masked twice keeps its record). Itself when nothing is masked."""
    masked, kinds = mask_payload(payload, keep=keep)
    if not kinds:
        return payload
    return {**masked, MASKED_KEY: sorted(kinds | set(masked_kinds(payload)))}


def masked_kinds(payload: dict) -> list[str]:
    """What a stored payload says was masked in it ([] when nothing was)."""
    recorded = payload.get(MASKED_KEY) if isinstance(payload, dict) else None
    if isinstance(recorded, str):  # a Twilio form field repeated once reads back as one value
        return [recorded]
    return [str(kind) for kind in recorded] if isinstance(recorded, list) else []


def _mask_dict(payload: dict, keep: Container[str]) -> tuple[Any, frozenset[str]]:
    changed: dict = {}
    kinds: frozenset[str] = frozenset()
    for key, value in payload.items():
        if key in keep:
            continue
        masked, found = mask_payload(value, keep=keep)
        if found:
            changed[key], kinds = masked, kinds | found
    if not changed:
        return payload, frozenset()
    return {key: changed.get(key, value) for key, value in payload.items()}, kinds


def _mask_list(payload: list | tuple, keep: Container[str]) -> tuple[Any, frozenset[str]]:
    results = [mask_payload(item, keep=keep) for item in payload]
    kinds = frozenset().union(*(found for _, found in results))
    if not kinds:
        return payload, frozenset()
    return type(payload)(masked for masked, _ in results), kinds


def _digit_count(text: str) -> int:
    # str.count runs in C: ten passes over a short message cost well under a microsecond.
    return sum(map(text.count, _ASCII_DIGITS))


# Cards


def _card_match(match: re.Match, kinds: set[str], said_card: bool) -> str:
    run = match.group(0)
    if run[0] == "0" or _NOT_A_CARD_BEFORE.search(match.string, 0, match.start()):
        return run  # no card number starts with 0 ("0033…" is a phone); a SIRET or an IMEI is no card
    return _card_or_same(run, kinds, said_card)


def _card_or_same(run: str, kinds: set[str], said_card: bool = False) -> str:
    """The run masked when it is a card number, or when its leading groups are one laid out as cards
    are (then what follows, an expiry or a code, stays as written); otherwise the run unchanged.
    `said_card`: the message calls it a card, so a card's layout and length are enough."""
    if len(run) < 13:  # too short for a card whatever it holds: most runs are a size or a price
        return run
    separators = list(_SEPARATORS.finditer(run))
    groups = _SEPARATORS.split(run)
    digits = "".join(groups)
    if _is_card(digits) or (said_card and _card_layout(groups) and 13 <= len(digits) <= 19):
        kinds.add(CARD)
        return _masked_card(digits)
    for count in range(len(groups) - 1, 0, -1):
        leading = groups[:count]
        if _card_layout(leading) and _is_card("".join(leading)):
            kinds.add(CARD)
            return _masked_card("".join(leading)) + run[separators[count - 1].start() :]
    return run


def _card_layout(groups: list[str]) -> bool:
    """How cards are written: one block of digits, groups of four, or American Express's 4-6-5."""
    sizes = [len(group) for group in groups]
    return len(sizes) == 1 or all(size == 4 for size in sizes) or sizes == [4, 6, 5]


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and _luhn_valid(digits)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _masked_card(digits: str) -> str:
    """First four and last four digits, one bullet group per (started) four digits between them."""
    hidden = len(digits) - 8
    return " ".join([digits[:4], *[BULLETS] * -(-hidden // 4), digits[-4:]])


# IBANs


def _iban_or_same(run: str, kinds: set[str]) -> str:
    """The run's longest leading part that is a valid IBAN, masked, with the rest as written."""
    chars = [(index, char) for index, char in enumerate(run) if not char.isspace()]
    low, high = _IBAN_BBAN
    for end in range(min(len(chars), 4 + high), 4 + low - 1, -1):
        compact = "".join(char for _, char in chars[:end]).upper()
        at_boundary = end == len(chars) or chars[end][0] > chars[end - 1][0] + 1
        if at_boundary and _iban_valid(compact):
            kinds.add(IBAN)
            return _masked_iban(compact) + run[chars[end - 1][0] + 1 :]
    return run


def _iban_valid(compact: str) -> bool:
    """ISO 13616: the country and check digits moved to the end, letters as 10..35, mod 97 is 1."""
    if sum(char.isdigit() for char in compact[4:]) < _IBAN_MIN_BBAN_DIGITS:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _masked_iban(compact: str) -> str:
    """Country and check digits, one bullet group per (started) four hidden characters, the last 3."""
    hidden = len(compact) - 4 - 3
    return " ".join([compact[:4], *[BULLETS] * -(-hidden // 4), compact[-3:]])
