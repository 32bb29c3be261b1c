"""A shop's receiving numbers are one spelling each, so no shop can claim another's (issue 8, item 2),
and a hostile but validly signed Meta body is a 400, never a 500 (item 7)."""

import json
import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from customers.models import AuditEntry, ChannelAddress, Customer, Interaction, Membership
from customers.services import membership_add, shop_create
from tests.webhook_posting import META_APP_SECRET as APP_SECRET
from tests.webhook_posting import TWILIO_TOKEN as TOKEN
from tests.webhook_posting import post_meta, post_twilio
from webhooks.inbound import MalformedWebhook
from webhooks.models import InboundEvent
from webhooks.providers import meta

SHOP_A_NUMBER = "+33612345601"
SPELLINGS_OF_A = ["whatsapp:+33612345601", " +33 6 12 34 56 01", "0612345601", "WhatsApp: 06.12.34.56.01"]


@pytest.fixture
def shop_a(shop):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=SHOP_A_NUMBER)
    return shop


@pytest.fixture
def shop_b(db):
    return shop_create(name="Boutique B", country="FR", language="fr")


@pytest.fixture(autouse=True)
def _secrets(settings):
    # No account SID: the automatic replies are recorded and refused, never sent anywhere.
    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_ACCOUNT_SID = TOKEN, ""
    settings.WHATSAPP_APP_SECRET, settings.WHATSAPP_ACCESS_TOKEN = APP_SECRET, ""
    settings.PUBLIC_BASE_URL = ""


# --- the model: clean() and save() ---------------------------------------------------------------


@pytest.mark.parametrize("spelling", SPELLINGS_OF_A)
def test_another_spelling_of_a_taken_number_is_refused_by_clean(shop_a, shop_b, spelling):
    claim = ChannelAddress(shop=shop_b, provider="twilio", address=spelling)
    with pytest.raises(ValidationError) as refused:
        claim.full_clean()
    assert claim.address == SHOP_A_NUMBER  # what the refusal compared
    assert refused.value.messages == ["This number already receives messages for a shop."]


@pytest.mark.parametrize("spelling", SPELLINGS_OF_A)
def test_another_spelling_of_a_taken_number_cannot_be_saved_either(shop_a, shop_b, spelling):
    with pytest.raises(IntegrityError), transaction.atomic():
        ChannelAddress.objects.create(shop=shop_b, provider="twilio", address=spelling)
    assert list(ChannelAddress.objects.values_list("shop", "address")) == [(shop_a.pk, SHOP_A_NUMBER)]


@pytest.mark.parametrize(
    ("provider", "given", "stored"),
    [
        ("twilio", "whatsapp:+33 7 57 00 00 01", "+33757000001"),
        ("twilio", "07 57 00 00 01", "+33757000001"),  # read with the shop's country
        ("twilio", "0033757000001", "+33757000001"),
        ("twilio", " 36 111 ", "36111"),  # a short code: its digits
        ("twilio", "MG" + "a1" * 16, "MG" + "a1" * 16),  # a messaging service SID, as given
        ("meta", " 1000 0000 0000 001 ", "100000000000001"),
    ],
)
def test_addresses_are_stored_normalised(shop, provider, given, stored):
    address = ChannelAddress.objects.create(shop=shop, provider=provider, address=given)
    address.refresh_from_db()
    assert address.address == stored


def test_local_numbers_are_read_with_the_shops_country(db):
    belgian = shop_create(name="Boutique BE", country="BE", language="fr")
    address = ChannelAddress.objects.create(shop=belgian, provider="twilio", address="0470 12 34 56")
    assert address.address == "+32470123456"


@pytest.mark.parametrize(
    ("provider", "given", "message"),
    [
        ("twilio", "SUPPORT", "is not a Twilio number"),
        ("twilio", "+33 6 12", "is not a Twilio number"),
        ("twilio", "tel:+33612345601", "is not a Twilio number"),
        ("meta", "phone-id-abc", "is not a Meta phone number ID"),
    ],
)
def test_invalid_addresses_get_a_clear_error(shop, provider, given, message):
    with pytest.raises(ValidationError) as refused:
        ChannelAddress(shop=shop, provider=provider, address=given).full_clean()
    assert message in " ".join(refused.value.message_dict["address"])
    with pytest.raises(ValidationError):
        ChannelAddress.objects.create(shop=shop, provider=provider, address=given)
    assert not ChannelAddress.objects.exists()


# --- the edges: admin and create_shop ------------------------------------------------------------


def _shop_change_post(client, shop, new_address):
    """The shop's admin change form as the page shows it, plus one new channel address in the inline."""
    url = reverse("admin:customers_shop_change", args=[shop.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, False)}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        for subform in formset.forms:
            data.update(
                {subform.add_prefix(n): subform[n].value() for n in subform.fields if subform[n].value()}
            )
        if formset.model is ChannelAddress:
            index = len(formset.forms)
            data[management.add_prefix("TOTAL_FORMS")] = index + 1
            data[f"{formset.prefix}-{index}-provider"] = "twilio"
            data[f"{formset.prefix}-{index}-address"] = new_address
    return client.post(url, data)


def test_an_owner_cannot_add_another_shops_number_in_the_admin(client, shop_a, shop_b):
    user = get_user_model().objects.create_user("owner-b", password="pw-owner-b")
    membership_add(shop=shop_b, user=user, role=Membership.Role.OWNER)
    client.force_login(user)
    response = _shop_change_post(client, shop_b, "whatsapp:+33 6 12 34 56 01")
    assert response.status_code == 200  # the form again, with the error
    assert "This number already receives messages for a shop." in response.content.decode()
    assert not ChannelAddress.objects.filter(shop=shop_b).exists()
    # Its own number in a local spelling is accepted and stored in E.164.
    response = _shop_change_post(client, shop_b, "07 57 00 00 02")
    assert response.status_code == 302
    assert list(shop_b.channel_addresses.values_list("address", flat=True)) == ["+33757000002"]


def test_one_number_typed_twice_in_two_spellings_in_one_save_is_refused_not_a_500(client, shop_b):
    user = get_user_model().objects.create_user("owner-b", password="pw-owner-b")
    membership_add(shop=shop_b, user=user, role=Membership.Role.OWNER)
    client.force_login(user)
    page = client.get(reverse("admin:customers_shop_change", args=[shop_b.pk]))
    prefix = next(
        i.formset.prefix for i in page.context["inline_admin_formsets"] if i.formset.model is ChannelAddress
    )
    # Two new rows in one POST: the same number, local and international.
    response = _shop_change_post(client, shop_b, "07 57 00 00 09")
    assert response.status_code == 302
    response = _shop_change_post_two(client, shop_b, prefix, "06 12 00 00 09", "+33 6 12 00 00 09")
    assert response.status_code == 200
    assert "+33612000009 is listed twice." in response.content.decode()
    assert list(shop_b.channel_addresses.values_list("address", flat=True)) == ["+33757000009"]


def _shop_change_post_two(client, shop, prefix, first, second):
    """Like _shop_change_post, with two new rows; built from the page with one new row added."""
    url = reverse("admin:customers_shop_change", args=[shop.pk])
    data = {}
    original_post = client.post
    client.post = lambda _url, posted: data.update(posted)  # capture what one new row would post
    try:
        _shop_change_post(client, shop, first)
    finally:
        client.post = original_post
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = index + 1
    data[f"{prefix}-{index}-provider"] = "twilio"
    data[f"{prefix}-{index}-address"] = second
    return client.post(url, data)


def test_create_shop_refuses_a_taken_meta_id_in_another_spelling(db):
    call_command(
        "create_shop", "--name", "A", "--country", "FR", "--whatsapp-phone-number-id", "100000000000001"
    )
    with pytest.raises(CommandError, match="already receives messages"):
        call_command(
            "create_shop",
            "--name",
            "B",
            "--country",
            "FR",
            "--whatsapp-phone-number-id",
            "1000 0000 0000 001",
        )


def test_create_shop_takes_short_codes_and_refuses_nonsense(db):
    call_command("create_shop", "--name", "A", "--country", "FR", "--twilio-number", "36 111")
    assert ChannelAddress.objects.get().address == "36111"
    with pytest.raises(CommandError, match="--whatsapp-phone-number-id: .* only digits"):
        call_command("create_shop", "--name", "B", "--country", "FR", "--whatsapp-phone-number-id", "abc")


# --- inbound lookup: the webhooks find the shop from the same spelling -----------------------------


def _twilio_message(to, sender="whatsapp:+33698765432"):
    return {"MessageSid": "SM" + "a" * 32, "From": sender, "To": to, "Body": "Bonjour", "WaId": "33698765432"}


@pytest.mark.parametrize(
    ("stored", "path", "to"),
    [
        ("07 57 00 00 00", "/webhooks/twilio/whatsapp/", "whatsapp:+33757000000"),
        ("whatsapp:+33757000000", "/webhooks/twilio/sms/", "+33757000000"),
        ("36 111", "/webhooks/twilio/sms/", "36111"),
    ],
)
def test_twilio_webhooks_find_the_shop_whatever_spelling_was_typed(client, shop, stored, path, to):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=stored)
    sender = "whatsapp:+33698765432" if to.startswith("whatsapp:") else "+33698765432"
    response = post_twilio(client, path, _twilio_message(to, sender))
    assert response.status_code == 200
    customer = Customer.objects.get(shop=shop)
    assert customer.phone == "+33698765432"
    event = InboundEvent.objects.get()
    assert (event.state, event.shop, event.customer) == (InboundEvent.State.PROCESSED, shop, customer)


def _meta_body(phone_number_id, **extra):
    message = {"from": "33698765432", "id": "wamid.test1", "timestamp": "1767960000", "type": "text"}
    message.update({"text": {"body": "Bonjour"}, **extra})
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": phone_number_id}}
    value.update(contacts=[{"profile": {"name": "Julie"}, "wa_id": "33698765432"}], messages=[message])
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"value": value}]}]}
    return json.dumps(payload).encode()


def test_meta_webhook_finds_the_shop_whose_id_was_typed_with_spaces(client, shop):
    ChannelAddress.objects.create(shop=shop, provider="meta", address=" 100 000 000 000 001")
    assert post_meta(client, raw=_meta_body("100000000000001")).status_code == 200
    assert Interaction.objects.get(direction="inbound").customer.shop == shop
    event = InboundEvent.objects.get()
    assert (event.state, event.shop) == (InboundEvent.State.PROCESSED, shop)


# --- the data migration ----------------------------------------------------------------------------


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_migration_normalises_rows_and_keeps_the_older_of_two_spellings(caplog):
    before = _migrate([("customers", "0002_autoreply_state")])
    Shop, Address = before.get_model("customers", "Shop"), before.get_model("customers", "ChannelAddress")
    a = Shop.objects.create(name="A", slug="a", country="FR")
    b = Shop.objects.create(name="B", slug="b", country="FR")
    be = Shop.objects.create(name="BE", slug="be", country="BE")
    older = Address.objects.create(shop=a, provider="twilio", address="06 12 34 56 01")
    newer = Address.objects.create(shop=b, provider="twilio", address="+33612345601")  # the E.164 already
    whatsapp = Address.objects.create(shop=b, provider="twilio", address="whatsapp:+33612345601")
    belgian = Address.objects.create(shop=be, provider="twilio", address="0470 12 34 56")
    meta_id = Address.objects.create(shop=b, provider="meta", address=" 100000000000001 ")
    unreadable = Address.objects.create(shop=b, provider="twilio", address="SUPPORT")
    try:
        with caplog.at_level(logging.WARNING, logger="customers.migrations"):
            _migrate([("customers", "0003_channel_address_normalise")])
        rows = dict(ChannelAddress.objects.values_list("pk", "address"))
        assert rows == {
            older.pk: "+33612345601",
            belgian.pk: "+32470123456",
            meta_id.pk: "100000000000001",
            unreadable.pk: "SUPPORT",  # left for ops, and logged
        }
        removed = AuditEntry.objects.filter(action=AuditEntry.Action.ADDRESS_REMOVED)
        assert sorted(removed.values_list("shop__slug", "details__address")) == [
            ("b", "+33612345601"),
            ("b", "whatsapp:+33612345601"),
        ]
        assert all(entry.details["normalised"] == "+33612345601" for entry in removed)
        logged = caplog.text
        assert f"Channel address {newer.pk} " in logged and f"Channel address {whatsapp.pk} " in logged
        assert "of shop a has first" in logged  # ops learn who keeps the number
        assert "'SUPPORT'" in logged and "left as it is" in logged
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


# --- item 7: deeply nested JSON from Meta ------------------------------------------------------------


def test_meta_body_nested_beyond_the_decoder_is_a_400_with_a_log_line(client, shop, caplog):
    body = b'{"object": "whatsapp_business_account", "entry": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with caplog.at_level(logging.WARNING, logger="webhooks.views"):
        response = post_meta(client, raw=body)
    assert response.status_code == 400
    assert "nested" in caplog.text
    assert not InboundEvent.objects.exists() and not Interaction.objects.exists()


def test_meta_message_nested_deeper_than_any_real_one_is_a_400_and_records_nothing(client, shop, caplog):
    ChannelAddress.objects.create(shop=shop, provider="meta", address="100000000000001")
    body = _meta_body("100000000000001", extra="DEEP").replace(b'"DEEP"', b'{"a": [' * 20 + b"1" + b"]}" * 20)
    with caplog.at_level(logging.WARNING, logger="webhooks.views"):
        response = post_meta(client, raw=body)
    assert response.status_code == 400
    assert "nested more than" in caplog.text
    assert not InboundEvent.objects.exists() and not Interaction.objects.exists()


def test_real_notifications_are_well_within_the_depth_limit():
    body = _meta_body("100000000000001", interactive={"type": "list_reply", "list_reply": {"id": "1"}})
    assert len(meta.parse_body(body)) == 1
    with pytest.raises(MalformedWebhook):
        meta.parse_body(b"\xff")
