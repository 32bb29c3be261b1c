"""The whole conversation the product was made for, against the demo catalogue: a question, the answer
from the shop's stock, "oui", the hold, then its expiry or its conversion; and the out-of-stock path to
the back-in-stock message.

Posted as Meta's Cloud API sends messages, through the signed URL, with the worker after the commit
(tasks eager in tests). The README's example conversation is checked against what the engine says.
"""

import itertools
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from catalog.alerts import alerts_send_due
from catalog.demo import demo_catalogue_seed
from catalog.holds import hold_convert, holds_expire_due
from catalog.models import Hold, StockAlert, Variant
from catalog.selectors import shop_variants
from catalog.services import stock_set
from customers.models import ChannelAddress, Customer, Interaction, Order
from shopinfo.models import ShopProfile
from tests.webhook_posting import META_APP_SECRET, TWILIO_TOKEN, post_meta

META_ID = "100000000000001"
README = Path(__file__).resolve().parent.parent / "README.md"
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_ACCOUNT_SID = TWILIO_TOKEN, "AC" + "0" * 32
    settings.WHATSAPP_APP_SECRET, settings.WHATSAPP_ACCESS_TOKEN = META_APP_SECRET, ""
    settings.PUBLIC_BASE_URL = ""
    settings.MESSAGING_SANDBOX = True  # replies "go out" (an offer that never reached them is no offer)


@pytest.fixture
def shop(shop):
    shop.name = "Maison Coccinelle"
    shop.save()
    # The demo's signature, as in the README's example conversation.
    ShopProfile.objects.create(shop=shop, signature="Maison Coccinelle")
    ChannelAddress.objects.create(shop=shop, provider="meta", address=META_ID)
    demo_catalogue_seed(shop_id=shop.pk)
    return shop


def write(client, text: str, *, wa_id="33698765432", name="Julie Martin") -> str:
    """The customer sends `text` on WhatsApp; the shop's automatic answer ("" for none)."""
    message = {"from": wa_id, "id": f"wamid.stock{next(_ids):06d}", "timestamp": str(int(time.time()))}
    message |= {"type": "text", "text": {"body": text}}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33757000000", "phone_number_id": META_ID},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [message],
    }
    entry = {"id": "1", "changes": [{"field": "messages", "value": value}]}
    assert post_meta(client, {"object": "whatsapp_business_account", "entry": [entry]}).status_code == 200
    inbound = Interaction.objects.get(provider_message_id=message["id"])
    reply = Interaction.objects.filter(in_reply_to=inbound, is_automatic=True).first()
    return reply.body if reply else ""


def available(shop, sku: str) -> int:
    return shop_variants(shop=shop).get(sku=sku).available


def test_question_answer_oui_hold_then_expiry_frees_the_unit(client, shop):
    assert available(shop, "ROB-PORT-BLEU-38") == 2

    answer = write(client, "Bonjour, je m'appelle Julie Martin. Avez-vous la robe bleue en 38 ?")
    assert answer.startswith("Bonjour Julie")
    assert "Robe portefeuille bleue" in answer and "38" in answer and "Il en reste 2" in answer

    confirmation = write(client, "Oui !")

    julie = Customer.objects.get(shop=shop)
    hold = Hold.objects.get(customer=julie, state="active")
    assert hold.variant.sku == "ROB-PORT-BLEU-38" and hold.quantity == 1
    assert "je vous garde « Robe portefeuille bleue » en 38 jusqu'à demain" in confirmation
    assert available(shop, "ROB-PORT-BLEU-38") == 1  # the next customer is told "il en reste 1"
    other = write(client, "vous avez la robe portefeuille bleue en 38 ?", wa_id="33611111111", name="Léa")
    assert "C'est la dernière pièce" in other

    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert holds_expire_due() == 1
    assert available(shop, "ROB-PORT-BLEU-38") == 1 + 1  # Léa has not said yes: only Julie's unit is back


def test_a_hold_made_in_the_conversation_becomes_an_order(client, shop, owner):
    write(client, "Bonjour, vous avez le manteau camel en 38 ?")
    write(client, "oui svp")
    hold = Hold.objects.get(state="active")
    stock_before = Variant.objects.get(pk=hold.variant_id).stock

    hold_convert(hold=hold, actor=owner)

    order = Order.objects.get(reference=f"HOLD-{hold.pk}")
    assert order.customer.first_name == "Julie" and order.amount == hold.variant.price
    assert Variant.objects.get(pk=hold.variant_id).stock == stock_before - 1


def test_out_of_stock_offers_the_nearest_sizes_then_the_message_when_it_is_back(client, shop):
    answer = write(client, "Hi! do you have the camel coat in 40?", name="Amy Smith")
    assert "40" in answer and "38" in answer and "42" in answer  # the nearest sizes in stock
    assert "Reply YES" in answer or "YES" in answer
    assert not re.search(r"\b\d+ left\b", answer)  # no count for what is out

    noted = write(client, "yes please", name="Amy Smith")
    assert "as soon as" in noted
    alert = StockAlert.objects.get(state="waiting")
    assert alert.variant.sku == "MAN-CAMEL-40"

    stock_set(variant=alert.variant, stock=3)
    assert alerts_send_due() == 1
    back = Interaction.objects.filter(direction="outbound").latest("pk")
    assert back.body.startswith("Hi Amy") and "is back (3 left)" in back.body

    write(client, "Yes", name="Amy Smith")
    assert Hold.objects.get(state="active").variant.sku == "MAN-CAMEL-40"


def test_a_product_the_shop_does_not_sell_is_handed_to_a_person(client, shop):
    answer = write(client, "Bonjour, vous avez des maillots de bain ?")
    assert answer  # an answer, not silence, and no stock claim
    assert "reste" not in answer
    assert Customer.objects.get(shop=shop).needs_attention


def test_which_size_then_a_bare_size_answers_for_that_product(client, shop):
    asked = write(client, "Bonjour, vous avez encore le manteau camel ?")
    assert "taille" in asked.lower()
    answer = write(client, "38")
    assert "Manteau camel" in answer and "38" in answer and "Répondez OUI" in answer


def test_the_readme_example_is_what_the_engine_says(client, shop):
    """The README's example conversation, line by line (the hold's end time is the test's clock)."""
    block = README.read_text(encoding="utf-8").split("<!-- example-conversation -->")[1]
    speakers = ("> **Julie:**", "> **Maison Coccinelle:**")
    lines = [line for line in block.splitlines() if line.startswith(speakers)]
    assert len(lines) >= 4
    said = None
    for line in lines:
        text = line.split(":**", 1)[1].strip()
        if line.startswith("> **Julie:**"):
            said = write(client, text)
            continue
        expected = re.escape(text.replace("<br>", "\n")).replace(r"demain\ 15h30", r"demain\ \d{1,2}h\d{2}")
        assert re.fullmatch(expected, said), (text, said)


@pytest.mark.parametrize(
    "chat", ["Merci, bonne journée", "non merci", "Encore merci !", "Vous êtes ouverts dimanche ?"]
)
def test_after_which_size_small_talk_gets_the_usual_answer_not_the_sizes_again(client, shop, chat):
    write(client, "Bonjour, vous avez encore le manteau camel ?")
    answer = write(client, chat)
    assert "Manteau camel" not in answer and "taille" not in answer.lower()


def test_yes_naming_another_size_is_a_new_question_not_the_offer(client, shop):
    assert "Il en reste 2" in write(client, "vous avez la robe portefeuille bleue en 38 ?")
    answer = write(client, "Oui mais en 36 ?")
    assert not Hold.objects.exists()
    assert "36" in answer and "Robe portefeuille bleue" in answer
    write(client, "oui")  # to the 36 now
    assert Hold.objects.get(state="active").variant.sku == "ROB-PORT-BLEU-36"


def test_yes_repeating_the_offered_size_accepts_it(client, shop):
    write(client, "vous avez la robe portefeuille bleue en 38 ?")
    write(client, "oui la 38 svp")
    assert Hold.objects.get(state="active").variant.sku == "ROB-PORT-BLEU-38"


def test_thanks_in_a_shop_with_a_catalogue_gets_the_usual_thanks(client, shop):
    assert "avec plaisir" in write(client, "Merci beaucoup !")


def test_the_size_said_before_is_kept_when_the_colour_comes_next(client, shop):
    write(client, "Bonjour, vous avez la robe en lin ?")
    write(client, "38")
    answer = write(client, "noire")
    assert "Robe en lin" in answer and "38" in answer and "noir" in answer
    assert "Quelle taille" not in answer
