"""Names from anywhere (issue 10, item 5): names the first-name list does not know, read from text
after a strong cue or an introducing one, and WhatsApp profile names in any script kept as the display
name until a person confirms them on the customer page."""

import time

import pytest

from customers.models import ChannelAddress, Customer
from tests.webhook_posting import ACCOUNT_SID, WA_URL, post_meta, post_twilio, providers_with_fake_twilio
from webhooks.names import name_from_profile, name_from_text

PHONE_NUMBER_ID = "100000000000009"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My name is Pranav", ("Pranav", None)),
        ("I am Samyak Mahajan", ("Samyak", "Mahajan")),
        ("Hello, I am Samyak Mahajan, is the linen shirt available?", ("Samyak", "Mahajan")),
        ("me chamo Jhonata", ("Jhonata", None)),
        ("my name is Sojan Jose", ("Sojan", "Jose")),  # in the order written, not reversed
        ("Good morning, my name is Chinonso Okafor.", ("Chinonso", "Okafor")),
        ("Bonjour je m'appelle Aïcha Ben Salah, vous êtes ouverts ?", ("Aïcha", "Ben Salah")),
        ("Hi! My name is Haruto Sato and I bought a scarf", ("Haruto", "Sato")),
        ("Hi, I'm Tunde Bakare.", ("Tunde", "Bakare")),
        ("Thanks a lot!\nRegards,\nVenkatesh Raghunathan", ("Venkatesh", "Raghunathan")),
    ],
)
def test_names_the_list_does_not_know_are_read_where_the_cue_says_whose(text, expected):
    result = name_from_text(text)
    assert (result.first_name, result.last_name) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I am Samyak Mahajan's wife, he ordered a jacket",
        "I'm in New York until Monday, can you hold the bag?",
        "I Am Looking For A Red Dress In Size 38",
        "I am Super Excited About The New Collection",
        "I am Free Tomorrow.",
        "C'est Saint Valentin demain, vous avez des idées cadeaux ?",
        "Hi, my friend Pranav Kumar told me about your shop",
        "Hi, I'm Ramadan shopping, are you open late?",
        "I am Maison Coccinelle's biggest fan",
        "My name is 山田太郎",  # no reliable first/last split from text
    ],
)
def test_no_false_names_after_an_introducing_cue(text):
    assert name_from_text(text) is None


@pytest.mark.parametrize("profile", ["Sojan Jose", "Pranav", "Samyak Mahajan", "山田太郎", "Иван Петров"])
def test_profile_names_the_list_cannot_vouch_for_are_not_split(profile):
    assert name_from_profile(profile) is None


# --- through the webhooks, onto the customer page ---------------------------------------------------


@pytest.fixture(autouse=True)
def _secrets(settings):
    yield from providers_with_fake_twilio(settings)


@pytest.fixture
def shop(shop):
    ChannelAddress.objects.create(shop=shop, provider="meta", address=PHONE_NUMBER_ID)
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33757000009")
    return shop


_counter = iter(range(10_000))


def meta_text(profile_name, text="Bonjour", wa_id="33698765432"):
    """A Meta Cloud API text notification shaped as in Meta's webhook reference."""
    n = next(_counter)
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA_ID",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "33757000009",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": profile_name}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.NAMESWORLD{n:06d}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def page(client, user, customer):
    client.force_login(user)
    return client.get(f"/dashboard/customers/{customer.pk}/").content.decode()


@pytest.mark.parametrize(
    ("profile", "first", "last"),
    [
        ("प्रणव शर्मा", "प्रणव", "शर्मा"),  # Devanagari: given name first
        ("محمد العلي", "محمد", "العلي"),  # Arabic
        ("山田太郎", "山田太郎", ""),  # CJK: no safe split, kept whole
        ("Иван Петров", "Иван", "Петров"),  # Cyrillic
    ],
)
def test_profile_name_in_any_script_is_shown_and_confirmable(client, shop, owner, profile, first, last):
    post_meta(client, meta_text("\u200f" + profile))  # an invisible mark as phones send them
    customer = Customer.objects.get(shop=shop)
    assert customer.profile_name == profile
    assert (customer.first_name, customer.last_name, customer.name_source) == ("", "", "")
    assert customer.display_name == profile
    html = page(client, owner, customer)
    assert "Nom WhatsApp :" in html and profile in html  # the shop is French
    assert f'<h1 id="customer-name">{profile}</h1>' in html
    assert "Utiliser comme nom" in html

    response = client.post(f"/dashboard/customers/{customer.pk}/confirm-name/")
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name, customer.name_source) == (first, last, "human")
    assert "Utiliser comme nom" not in page(client, owner, customer)


def test_confirmed_name_is_never_overwritten_by_a_later_profile_name(client, shop, staff):
    post_meta(client, meta_text("Sojan Jose"))
    customer = Customer.objects.get(shop=shop)
    assert (customer.first_name, customer.last_name) == ("", "")  # not reversed, not guessed
    client.force_login(staff)  # staff may confirm too
    client.post(f"/dashboard/customers/{customer.pk}/confirm-name/")
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name, customer.name_source) == ("Sojan", "Jose", "human")

    post_meta(client, meta_text("SJ 🌴", text="Hello, my name is Pranav Kumar"))
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name) == ("Sojan", "Jose")
    assert customer.profile_name == "SJ 🌴"  # what their WhatsApp shows now, offered again
    html = page(client, staff, customer)
    assert '<h1 id="customer-name">Sojan Jose</h1>' in html
    assert "Utiliser comme nom" in html


def test_text_name_beats_the_profile_name_and_the_page_shows_both(client, shop, owner):
    post_meta(client, meta_text("山田太郎", text="Hello, I am Samyak Mahajan, is the shop open today?"))
    customer = Customer.objects.get(shop=shop)
    assert (customer.first_name, customer.last_name, customer.name_source) == ("Samyak", "Mahajan", "text")
    html = page(client, owner, customer)
    assert '<h1 id="customer-name">Samyak Mahajan</h1>' in html and "山田太郎" in html


def test_twilio_profile_name_is_the_display_name_in_the_list(client, shop, owner):
    params = {
        "MessageSid": "SM" + "a" * 32,
        "AccountSid": ACCOUNT_SID,
        "From": "whatsapp:+919812345678",
        "To": "whatsapp:+33757000009",
        "Body": "Hi, is the blue scarf available?",
        "NumMedia": "0",
        "ProfileName": "Pranav",
        "WaId": "919812345678",
    }
    post_twilio(client, WA_URL, params)
    customer = Customer.objects.get(shop=shop)
    assert (customer.profile_name, customer.first_name) == ("Pranav", "")
    client.force_login(owner)
    assert "Pranav" in client.get("/dashboard/customers/").content.decode()


def test_confirm_is_post_only_and_scoped_to_the_shop(client, shop, other_owner):
    post_meta(client, meta_text("Pranav"))
    customer = Customer.objects.get(shop=shop)
    client.force_login(other_owner)
    assert client.post(f"/dashboard/customers/{customer.pk}/confirm-name/").status_code == 404
    customer.refresh_from_db()
    assert customer.name_source == ""


def test_eval_sets_keep_zero_false_names():
    from scripts.eval_names import DEFAULT_FILES, evaluate, load

    for path in DEFAULT_FILES:
        if path.exists():
            assert evaluate(load(path)).false_names == 0, path
