"""Hours and facts as customers meet them: a message posted to the webhook gets the day it asked about,
in the shop's own time zone, its holidays included; the facts the owner gave; and a card number sent by
mistake is masked before anything stores it, with a warning in the customer's language."""

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from customers.models import ChannelAddress, Customer, Interaction
from shopinfo.models import HoursException, ShopProfile
from tests.webhook_posting import SMS_URL, post_twilio, providers_with_fake_twilio

SHOP_NUMBER = "+33757000000"
EVERY_DAY = {str(day): [["10:00", "19:00"]] for day in range(7)}
# 23:30 UTC on 24 December: already Christmas Day in Paris, still Christmas Eve evening in New York.
CHRISTMAS_EVE_UTC = datetime(2026, 12, 24, 23, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def twilio_api(settings):
    yield from providers_with_fake_twilio(settings)


@pytest.fixture
def shop(shop):
    shop.address = "12 rue des Lilas, 69002 Lyon"
    shop.save()
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=SHOP_NUMBER)
    ShopProfile.objects.create(
        shop=shop,
        weekly_hours=EVERY_DAY,
        signature="Lou, Boutique Coccinelle",
        delivery="France en 48 h, 5,90 €.",
        translations={"delivery": {"en": "France in 48 hours, €5.90."}},
    )
    HoursException.objects.create(
        shop=shop, first_day=date(2026, 12, 25), last_day=date(2026, 12, 25), label="Noël"
    )
    return shop


@pytest.fixture
def christmas_eve(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: CHRISTMAS_EVE_UTC)


def ask(client, text, sid):
    params = {
        "MessageSid": sid, "AccountSid": "AC" + "1" * 32, "From": "+33698765432", "To": SHOP_NUMBER,
        "Body": text, "NumMedia": "0",
    }  # fmt: skip
    assert post_twilio(client, SMS_URL, params).status_code == 200
    customer = Customer.objects.get(phone="+33698765432")
    reply = Interaction.objects.filter(customer=customer, direction="outbound").latest("pk")
    return customer, reply.body


def test_today_is_the_shops_today_with_its_holiday(client, shop, christmas_eve):
    _, reply = ask(client, "Vous êtes ouverts aujourd'hui ?", "SM" + "1" * 32)
    assert reply == (
        "Bonjour, aujourd'hui nous sommes fermés pour Noël. Nous rouvrons demain à 10h."
        "\nLou, Boutique Coccinelle"
    )
    shop.time_zone = "America/New_York"
    shop.save()
    _, reply = ask(client, "Are you open today?", "SM" + "2" * 32)
    # 18:30 on the 24th in New York: open, not Christmas yet.
    assert "Noël" not in reply and "7 pm" in reply, reply


def test_a_fact_in_the_customers_language_when_the_owner_wrote_one(client, shop):
    _, reply = ask(client, "Do you ship to Belgium?", "SM" + "3" * 32)
    assert "France in 48 hours, €5.90" in reply and "France en 48 h" not in reply
    _, reply = ask(client, "Vous livrez en Belgique ?", "SM" + "4" * 32)
    assert "France en 48 h, 5,90 €." in reply and ".." not in reply


def test_an_empty_fact_goes_to_a_person(client, shop):
    customer, reply = ask(client, "Vous faites les retouches ?", "SM" + "5" * 32)
    assert "Une personne de la boutique" in reply
    customer.refresh_from_db()
    assert customer.needs_attention


def test_a_card_number_is_masked_answered_with_a_warning_and_handed_over(client, shop):
    customer, reply = ask(client, "mon numéro de carte est le 4970 1012 3456 7890", "SM" + "6" * 32)
    message = Interaction.objects.get(customer=customer, direction="inbound")
    assert message.body == "mon numéro de carte est le 4970 •••• •••• 7890"
    assert "1012" not in str(message.raw_payload)
    assert "ne nous envoyez jamais de numéro de carte" in reply
    customer.refresh_from_db()
    assert customer.needs_attention
