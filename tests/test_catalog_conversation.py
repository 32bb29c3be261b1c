"""The catalogue in the conversation: the customer's "oui" to what an automatic reply offered (hold this
variant, tell me when it is back), and the back-in-stock message.

Messages are posted as Meta's Cloud API sends them, through the signed URL; the worker runs after the
commit (tasks are eager in tests). The question -> answer part is in test_catalog_stock_answers.py.
"""

import itertools
import time
from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from catalog import conversation_texts as texts
from catalog.alerts import alert_subscribe, alerts_send_due
from catalog.holds import hold_create
from catalog.models import Hold, StockAlert
from catalog.services import stock_set
from customers.models import ChannelAddress, Customer, Interaction
from customers.services import customer_merge
from tests.fakes.meta_graph import FakeMetaGraph
from tests.test_catalog import make_variant
from tests.webhook_posting import META_APP_SECRET, TWILIO_TOKEN, post_meta
from webhooks.answerers import CONTEXT_KEY
from webhooks.autoreply import record_outbound

META_ID = "100000000000001"
WA_ID = "33698765432"
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_ACCOUNT_SID = TWILIO_TOKEN, "AC" + "0" * 32
    settings.WHATSAPP_APP_SECRET, settings.WHATSAPP_ACCESS_TOKEN = META_APP_SECRET, ""
    settings.PUBLIC_BASE_URL = ""
    settings.MESSAGING_SANDBOX = True  # replies "go out" (an offer that never reached them is no offer)
    settings.AUTO_REPLY_DEBOUNCE_SECONDS = 5


@pytest.fixture
def shop(shop):
    ChannelAddress.objects.create(shop=shop, provider="meta", address=META_ID)
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33757000000")
    return shop


def write(client, text: str, *, name="Julie Martin"):
    """The customer sends `text` on WhatsApp; the shop's automatic answer to it, if any."""
    message = {"from": WA_ID, "id": f"wamid.conv{next(_ids):06d}", "timestamp": str(int(time.time()))}
    message |= {"type": "text", "text": {"body": text}}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33757000000", "phone_number_id": META_ID},
        "contacts": [{"profile": {"name": name}, "wa_id": WA_ID}],
        "messages": [message],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    assert post_meta(client, payload).status_code == 200
    inbound = Interaction.objects.get(provider_message_id=message["id"])
    return Interaction.objects.filter(in_reply_to=inbound, is_automatic=True).first()


def offer(customer: Customer, variant, kind: str = "hold") -> Interaction:
    """An automatic reply that offered to hold `variant` (or to tell them when it is back)."""
    return record_outbound(
        customer=customer,
        channel="whatsapp",
        body="Oui ! On l'a en 38. Il en reste 2. Je la mets de côté pour vous ? Répondez OUI.",
        provider="meta",
        automatic=True,
        context={"offer": kind, "variant_id": variant.pk},
    )


@pytest.fixture
def julie(client, shop):
    write(client, "Bonjour")  # she exists, the 24-hour window is open
    return Customer.objects.get(shop=shop)


# --- "oui" to a hold offer ---------------------------------------------------------------------------


def test_yes_to_the_offer_holds_the_variant_for_the_shops_duration(client, shop, julie):
    variant = make_variant(shop, "RB-38", stock=2)
    offer(julie, variant)

    reply = write(client, "Oui svp !")

    hold = Hold.objects.get(customer=julie, variant=variant, state="active")
    assert timedelta(hours=23) < hold.expires_at - timezone.now() <= timedelta(hours=24)
    assert "je vous garde « Robe bleue » en 38 jusqu'à demain" in reply.body
    assert reply.body.startswith("Bonjour Julie")


def test_a_button_titled_yes_holds_too(client, shop, julie):
    variant = make_variant(shop, "RB-38", stock=2)
    offer(julie, variant)
    message = {
        "from": WA_ID,
        "id": "wamid.button1",
        "timestamp": str(int(time.time())),
        "type": "interactive",
    }
    message["interactive"] = {"type": "button_reply", "button_reply": {"id": "hold-yes", "title": "Oui"}}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33757000000", "phone_number_id": META_ID},
        "contacts": [{"profile": {"name": "Julie Martin"}, "wa_id": WA_ID}],
        "messages": [message],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    post_meta(client, payload)
    assert Hold.objects.filter(customer=julie, variant=variant, state="active").exists()


def test_the_last_unit_gone_meanwhile_offers_to_tell_them_and_yes_makes_the_alert(
    client, shop, julie, make_customer
):
    variant = make_variant(shop, "RB-38", stock=1)
    offer(julie, variant)
    hold_create(customer=make_customer(shop), variant=variant)  # someone at the counter was faster

    reply = write(client, "oui")

    assert not Hold.objects.filter(customer=julie).exists()
    assert "vient de partir" in reply.body
    assert reply.raw_payload[CONTEXT_KEY]["offer"] == "notify"
    assert reply.raw_payload[CONTEXT_KEY]["variant_ids"] == [variant.pk]
    reply = write(client, "Oui merci")
    assert StockAlert.objects.filter(customer=julie, variant=variant, state="waiting").exists()
    assert "je vous écris dès que « Robe bleue » en 38 est de retour" in reply.body


def test_no_is_not_a_yes(client, shop, julie):
    variant = make_variant(shop, "RB-38", stock=2)
    offer(julie, variant)
    write(client, "Non merci, je vais réfléchir")
    assert not Hold.objects.exists()


def test_a_person_writing_after_the_offer_takes_it_back(client, shop, julie, owner):
    variant = make_variant(shop, "RB-38", stock=2)
    offer(julie, variant)
    record_outbound(
        customer=julie, channel="whatsapp", body="Je regarde en réserve", provider="meta", author=owner
    )
    write(client, "oui")
    assert not Hold.objects.exists()  # the "oui" answers the person, who is handling it


def test_no_hold_is_made_while_automatic_replies_are_off(client, shop, julie):
    variant = make_variant(shop, "RB-38", stock=2)
    offer(julie, variant)
    shop.auto_replies_enabled = False
    shop.save()
    write(client, "oui")
    assert not Hold.objects.exists()


def test_an_offer_naming_another_shops_variant_holds_nothing(client, shop, julie, other_shop):
    make_variant(shop, "RB-38", stock=2)
    foreign = make_variant(other_shop, "RB-38", stock=2)
    offer(julie, foreign)

    reply = write(client, "oui")

    assert not Hold.objects.exists()
    assert "n'est plus proposé" in reply.body
    assert Customer.objects.get(pk=julie.pk).needs_attention


def test_on_whatsapp_cloud_the_offer_goes_out_with_yes_no_buttons(client, shop, julie, settings):
    variant = make_variant(shop, "RB-38", stock=0)
    alert_subscribe(customer=julie, variant=variant)
    stock_set(variant=variant, stock=1)
    with FakeMetaGraph(access_token="graph-token") as graph:
        settings.WHATSAPP_ACCESS_TOKEN, settings.WHATSAPP_GRAPH_BASE = "graph-token", graph.url
        with TestCase.captureOnCommitCallbacks(execute=True):
            alerts_send_due()
        [sent] = [request.json() for request in graph.requests if request.method == "POST"]
    assert sent["type"] == "interactive"  # the fake checks the reference's limits; it answered 200
    assert "est de retour (il en reste 1)" in sent["interactive"]["body"]["text"]
    titles = [button["reply"]["title"] for button in sent["interactive"]["action"]["buttons"]]
    assert titles == ["Oui", "Non merci"]
    message = Interaction.objects.filter(customer=julie, direction="outbound").latest("pk")
    assert message.status == "accepted" and message.provider_message_id


def test_an_offer_older_than_a_day_or_never_delivered_is_not_what_a_yes_answers(client, shop, julie):
    variant = make_variant(shop, "RB-38", stock=2)
    old = offer(julie, variant)
    Interaction.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    write(client, "oui")
    assert not Hold.objects.exists()
    failed = offer(julie, variant)
    Interaction.objects.filter(pk=failed.pk).update(status="failed")
    write(client, "oui")
    assert not Hold.objects.exists()


def test_a_yes_keeps_the_quantity_a_person_set_aside(client, shop, julie, owner):
    variant = make_variant(shop, "RB-38", stock=3)
    hold_create(customer=julie, variant=variant, quantity=2, actor=owner)
    offer(julie, variant)
    write(client, "oui")
    assert Hold.objects.get(customer=julie, state="active").quantity == 2


def test_a_withdrawn_product_is_not_held(client, shop, julie):
    variant = make_variant(shop, "RB-38", stock=2)
    offer(julie, variant)
    variant.product.active = False
    variant.product.save()
    assert "n'est plus proposé" in write(client, "oui").body
    assert not Hold.objects.exists()


@pytest.mark.parametrize(
    ("language", "days", "expected"),
    [
        ("fr", 0, "jusqu'à aujourd'hui 18h30"),
        ("fr", 1, "jusqu'à demain 18h30"),
        ("fr", 3, "jusqu'au 05/12 à 18h30"),
        ("it", 3, "fino al 5/12 alle 18:30"),
        ("de", 1, "bis morgen 18:30 Uhr"),
        ("en", 1, "until 18:30 tomorrow"),
    ],
)
def test_the_end_of_a_hold_reads_as_a_person_says_it(language, days, expected):
    from datetime import datetime

    now = datetime(2026, 12, 2, 10, 0)
    assert (
        texts.until_text(language, expires=now + timedelta(days=days, hours=8, minutes=30), now=now)
        == expected
    )


# --- back in stock ------------------------------------------------------------------------------------


def test_back_in_stock_sends_one_message_offering_the_hold_and_yes_holds(client, shop, julie):
    variant = make_variant(shop, "RB-38", stock=0)
    alert_subscribe(customer=julie, variant=variant)
    assert alerts_send_due() == 0  # still out

    stock_set(variant=variant, stock=2)
    assert alerts_send_due() == 1
    assert alerts_send_due() == 0  # once

    message = Interaction.objects.filter(customer=julie, direction="outbound").latest("pk")
    assert "bonne nouvelle, « Robe bleue » en 38 est de retour (il en reste 2)" in message.body
    assert message.channel == "whatsapp"  # her window is open
    assert StockAlert.objects.get().state == "sent"
    write(client, "Oui !")
    assert Hold.objects.filter(customer=julie, variant=variant, state="active").exists()


def test_units_freed_by_a_released_hold_count_as_back(shop, julie, make_customer):
    variant = make_variant(shop, "RB-38", stock=1)
    other_hold = hold_create(customer=make_customer(shop), variant=variant)
    alert_subscribe(customer=julie, variant=variant)
    assert alerts_send_due() == 0
    Hold.objects.filter(pk=other_hold.pk).update(state="expired")
    assert alerts_send_due() == 1


def test_an_opted_out_customer_gets_no_back_in_stock_message(shop, julie):
    variant = make_variant(shop, "RB-38", stock=0)
    alert_subscribe(customer=julie, variant=variant)
    Customer.objects.filter(pk=julie.pk).update(opted_out_at=timezone.now())
    stock_set(variant=variant, stock=3)
    assert alerts_send_due() == 0
    assert StockAlert.objects.get().state == "cancelled"


def test_two_items_back_together_make_one_message_and_one_yes_holds_both(client, shop, julie):
    first, second = make_variant(shop, "RB-38", stock=0), make_variant(shop, "RB-40", size="40", stock=0)
    alert_subscribe(customer=julie, variant=first)
    alert_subscribe(customer=julie, variant=second)
    stock_set(variant=first, stock=1)
    stock_set(variant=second, stock=1)
    assert alerts_send_due() == 1
    message = Interaction.objects.filter(customer=julie, direction="outbound").latest("pk")
    assert "ils sont de retour : « Robe bleue » en 38, « Robe bleue » en 40 !" in message.body
    write(client, "Oui")
    assert set(
        Hold.objects.filter(customer=julie, state="active").values_list("variant__sku", flat=True)
    ) == {
        "RB-38",
        "RB-40",
    }


def test_alerts_that_cannot_go_out_never_hold_up_the_others(shop, make_customer, monkeypatch):
    from catalog import alerts

    monkeypatch.setattr(alerts, "BATCH", 2)
    variant = make_variant(shop, "RB-38", stock=0)
    for n in range(3):  # WhatsApp only, window closed: cannot be told yet
        alert_subscribe(
            customer=make_customer(shop, phone=None, whatsapp_user_id=f"3361111111{n}"), variant=variant
        )
    reachable = make_customer(shop)  # a phone: SMS
    alert_subscribe(customer=reachable, variant=variant)
    stock_set(variant=variant, stock=5)
    sent = [alerts_send_due() for _ in range(3)]
    assert sum(sent) == 1
    assert StockAlert.objects.get(customer=reachable).state == "sent"


def test_no_back_in_stock_offer_while_replies_are_off_it_waits(shop, julie):
    variant = make_variant(shop, "RB-38", stock=0)
    alert_subscribe(customer=julie, variant=variant)
    stock_set(variant=variant, stock=2)
    shop.auto_replies_enabled = False
    shop.save()
    assert alerts_send_due() == 0
    assert StockAlert.objects.get().state == "waiting"
    shop.auto_replies_enabled = True
    shop.save()
    assert alerts_send_due() == 1


def test_with_no_open_channel_the_alert_keeps_waiting_then_lapses(shop, make_customer):
    wa_only = make_customer(shop, phone="", whatsapp_user_id="33611111111")  # window closed: never wrote
    variant = make_variant(shop, "RB-38", stock=0)
    alert = alert_subscribe(customer=wa_only, variant=variant)
    stock_set(variant=variant, stock=3)
    assert alerts_send_due() == 0
    assert StockAlert.objects.get().state == "waiting"
    StockAlert.objects.filter(pk=alert.pk).update(created_at=timezone.now() - timedelta(days=61))
    assert alerts_send_due() == 0
    assert StockAlert.objects.get().state == "lapsed"


def test_asking_twice_is_one_wait(shop, julie):
    variant = make_variant(shop, "RB-38", stock=0)
    assert alert_subscribe(customer=julie, variant=variant) == alert_subscribe(
        customer=julie, variant=variant
    )


def test_waiting_alerts_follow_a_merge(shop, julie, make_customer):
    variant = make_variant(shop, "RB-38", stock=0)
    twin = make_customer(shop, first_name="Julie")
    alert_subscribe(customer=twin, variant=variant)
    customer_merge(keep=julie, others=[twin])
    assert StockAlert.objects.get().customer_id == julie.pk


def test_the_admin_lists_alerts_of_the_staffs_shop_only(
    client, shop, other_shop, julie, staff, make_customer
):
    mine = make_variant(shop, "RB-38", stock=0)
    theirs = make_variant(other_shop, "XX-1", stock=0)
    alert_subscribe(customer=julie, variant=mine)
    alert_subscribe(customer=make_customer(other_shop), variant=theirs)
    client.force_login(staff)
    html = client.get("/admin/catalog/stockalert/").content.decode()
    assert "RB-38" in html and "XX-1" not in html


# --- what a "yes" is ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "oui",
        "Oui !",
        "OUI svp",
        "ouais",
        "ok",
        "d'accord",
        "Yes please",
        "sí",
        "Sì grazie",
        "ja gerne",
        "sim",
        "👍",
    ],
)
def test_yes_in_every_language(message):
    assert texts.is_yes(message)


@pytest.mark.parametrize(
    "message",
    [
        "non",
        "non merci",
        "oui mais vous l'avez en 40 ?",
        "no thanks",
        "nein",
        "",
        "ok non merci",
        "ok merci",
        "Ok je vais réfléchir",
        "Oui mais en 40 plutôt",
        "yes but not now",
        "ja aber nicht heute",
        "Bitte nicht",
        "ok alors je voulais vous dire que la dernière fois la robe était trop grande et que je préfère",
    ],
)
def test_not_a_yes(message):
    assert not texts.is_yes(message)


def test_the_holds_page_and_the_customer_page_show_who_waits_for_a_restock(
    client, shop, other_shop, julie, owner, make_customer
):
    alert_subscribe(customer=julie, variant=make_variant(shop, "RB-38", stock=0))
    alert_subscribe(customer=make_customer(other_shop), variant=make_variant(other_shop, "XX-1", stock=0))
    client.force_login(owner)
    holds = client.get("/dashboard/holds/").content.decode()
    assert "réassort" in holds  # the section, in the shop's French
    assert "RB-38" in holds and "XX-1" not in holds
    page = client.get(f"/dashboard/customers/{julie.pk}/").content.decode()
    assert "Robe bleue · 38 · bleu" in page
