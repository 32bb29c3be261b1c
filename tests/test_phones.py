import pytest
from django.utils import translation

from customers.phones import InvalidPhoneNumber, normalize_phone, try_normalize_phone

VALID = [
    # France, in every way customers and providers write it
    ("06 98 76 54 32", "FR", "+33698765432"),
    ("0698765432", "FR", "+33698765432"),
    ("06.98.76.54.32", "FR", "+33698765432"),
    ("06-98-76-54-32", "FR", "+33698765432"),
    ("+33 6 98 76 54 32", "FR", "+33698765432"),
    ("+33 (0)6 98 76 54 32", "FR", "+33698765432"),
    ("0033698765432", "FR", "+33698765432"),
    ("whatsapp:+33698765432", "FR", "+33698765432"),
    ("WhatsApp:+33698765432", "FR", "+33698765432"),
    ("33698765432", "FR", "+33698765432"),  # WhatsApp's wa_id: international digits, no +
    ("01 42 68 53 00", "FR", "+33142685300"),  # landline
    ("  +33698765432  ", "FR", "+33698765432"),
    # A French shop reading foreign numbers written internationally
    ("+32 470 12 34 56", "FR", "+32470123456"),
    ("32470123456", "FR", "+32470123456"),
    # Belgium, Switzerland, UK, US, Spain, Italy, Germany with their own shop country
    ("0470 12 34 56", "BE", "+32470123456"),
    ("079 123 45 67", "CH", "+41791234567"),
    ("+41 79 123 45 67", "FR", "+41791234567"),
    ("07911 123456", "GB", "+447911123456"),
    ("+44 7911 123456", "FR", "+447911123456"),
    ("(415) 555-2671", "US", "+14155552671"),
    ("+1 415 555 2671", "FR", "+14155552671"),
    ("612 34 56 78", "ES", "+34612345678"),
    ("whatsapp:+34612345678", "FR", "+34612345678"),
    ("312 345 6789", "IT", "+393123456789"),
    ("0039 312 345 6789", "FR", "+393123456789"),
    ("0151 23456789", "DE", "+4915123456789"),
    ("4915123456789", "FR", "+4915123456789"),
]

INVALID = [
    "",
    "   ",
    "SUPPORT",  # alphanumeric sender
    "Coccinelle",
    "whatsapp:CC.a1b2c3d4",  # WhatsApp username user, no phone
    "12",
    "06 98 76",  # too short
    "not a number",
    "+33 6 98 76 54 32 99 99",  # too long
    "<script>alert(1)</script>",
    "06 98 76 54 3x",
    "00000000000",
    "+999 123 456",
]


@pytest.mark.parametrize(("raw", "country", "expected"), VALID)
def test_valid_numbers_become_e164(raw, country, expected):
    assert normalize_phone(raw, country) == expected


@pytest.mark.parametrize("raw", INVALID)
def test_invalid_input_is_rejected_with_a_message(raw):
    with pytest.raises(InvalidPhoneNumber) as excinfo:
        normalize_phone(raw, "FR")
    assert str(excinfo.value)  # a sentence a person can read


def test_alphanumeric_sender_is_named_as_such():
    with translation.override("en"), pytest.raises(InvalidPhoneNumber, match="sender name"):
        normalize_phone("SUPPORT", "FR")
    with translation.override("fr"), pytest.raises(InvalidPhoneNumber, match="nom d'expéditeur"):
        normalize_phone("SUPPORT", "FR")


def test_try_normalize_returns_none_instead_of_raising():
    assert try_normalize_phone("SUPPORT", "FR") is None
    assert try_normalize_phone("06 98 76 54 32", "FR") == "+33698765432"


def test_local_format_depends_on_the_shop_country():
    # The same digits are a Belgian mobile for a Belgian shop and a Lyon landline for a French one.
    assert normalize_phone("0470 12 34 56", "BE") == "+32470123456"
    assert normalize_phone("0470 12 34 56", "FR") == "+33470123456"
