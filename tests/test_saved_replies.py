"""Saved replies: owners manage them (staff may not), the send box offers them filled in for the customer,
and the no-script *Insert* puts one in the message."""

import pytest
from django.urls import reverse

from customers.models import ChannelAddress, Membership
from customers.services import membership_add, shop_create
from webhooks.models import SavedReply
from webhooks.saved_replies import fill, placeholder_values, saved_replies_for, saved_reply_save, text_for

REPLIES = "/dashboard/shop/replies/"


@pytest.fixture
def shop(shop):
    shop.language, shop.opening_hours, shop.address = "en", "Tue–Sat 10:00–19:00", "12 rue des Lilas, Lyon"
    shop.save()
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33757000000")
    return shop


@pytest.fixture
def customer(shop, make_customer):
    return make_customer(shop, first_name="Julie", last_name="Martin", phone="+33698765432")


@pytest.fixture
def hours(shop):
    texts = {
        "en": "Hi {first_name}, we are open {shop_hours}.",
        "fr": "Bonjour {first_name}, nous sommes ouverts {shop_hours}.",
    }
    return saved_reply_save(shop=shop, name="Hours", texts=texts)


def test_placeholders_are_filled_for_the_customer_and_unknown_braces_stay(customer):
    values = placeholder_values(customer)
    assert fill("{first_name} at {shop_address}, {10 €} {nope}", values) == (
        "Julie at 12 rue des Lilas, Lyon, {10 €} {nope}"
    )


def test_the_customers_language_wins_then_the_shops_then_any(shop, customer, hours):
    assert text_for(hours, language="fr", fallback="en").startswith("Bonjour")
    assert text_for(hours, language="de", fallback="en").startswith("Hi")
    only_fr = saved_reply_save(shop=shop, name="Only French", texts={"fr": "Merci !", "en": ""})
    assert text_for(only_fr, language="en", fallback="en") == "Merci !"
    customer.language = "fr"
    customer.save()
    offered = {r["name"]: r["text"] for r in saved_replies_for(customer)}
    assert offered["Hours"] == "Bonjour Julie, nous sommes ouverts Tue–Sat 10:00–19:00."


def test_owner_adds_edits_and_deletes_a_saved_reply(client, owner, shop):
    client.force_login(owner)
    response = client.post(REPLIES, {"name": "Thanks", "text_en": "Thank you {first_name}!", "text_fr": ""})
    assert response.status_code == 302
    reply = SavedReply.objects.get(shop=shop, name="Thanks")
    assert reply.texts == {"en": "Thank you {first_name}!"}
    response = client.post(
        reverse("saved-reply-edit", args=[reply.pk]),
        {"name": "Thanks", "text_en": "Thanks!", "text_fr": "Merci !"},
    )
    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.texts == {"en": "Thanks!", "fr": "Merci !"}
    assert "Thanks" in client.get(REPLIES).content.decode()
    assert client.post(reverse("saved-reply-delete", args=[reply.pk])).status_code == 302
    assert not SavedReply.objects.filter(pk=reply.pk).exists()


def test_a_reply_needs_a_text_known_placeholders_and_a_unique_name(client, owner, shop, hours):
    client.force_login(owner)
    empty = client.post(REPLIES, {"name": "Empty", "text_en": " ", "text_fr": ""})
    assert empty.status_code == 400 and "at least one language" in empty.content.decode()
    typo = client.post(REPLIES, {"name": "Typo", "text_en": "Hi {firstname}", "text_fr": ""})
    assert typo.status_code == 400 and "Unknown placeholder: {firstname}" in typo.content.decode()
    taken = client.post(REPLIES, {"name": "Hours", "text_en": "Again", "text_fr": ""})
    assert taken.status_code == 400 and "Another saved reply has this name" in taken.content.decode()
    assert SavedReply.objects.filter(shop=shop).count() == 1


def test_staff_cannot_manage_replies_and_another_shops_reply_is_a_404(client, staff, owner, shop, hours):
    client.force_login(staff)
    assert client.get(REPLIES).status_code == 403
    assert client.post(REPLIES, {"name": "X", "text_en": "x"}).status_code == 403
    other = shop_create(name="Other", country="FR", language="fr")
    theirs = saved_reply_save(shop=other, name="Theirs", texts={"fr": "Secret"})
    client.force_login(owner)
    assert client.get(reverse("saved-reply-edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("saved-reply-delete", args=[theirs.pk])).status_code == 302
    assert SavedReply.objects.filter(pk=theirs.pk).exists()


def test_the_send_box_offers_the_replies_filled_in_to_staff_too(client, staff, customer, hours):
    client.force_login(staff)
    html = client.get(reverse("dashboard:customer-detail", args=[customer.pk])).content.decode()
    assert 'data-text="Hi Julie, we are open Tue–Sat 10:00–19:00."' in html
    assert "dashboard/send_box.js" in html and 'name="insert_reply"' in html


def test_insert_without_script_puts_the_reply_after_what_was_typed(client, staff, customer, hours):
    client.force_login(staff)
    response = client.post(
        reverse("customer-send", args=[customer.pk]),
        {"insert_reply": "1", "saved_reply": hours.pk, "channel": "sms", "body": "Hello!"},
    )
    assert response.status_code == 200
    assert "Hello!\nHi Julie, we are open Tue–Sat 10:00–19:00.</textarea>" in response.content.decode()
    assert not customer.interactions.filter(direction="outbound").exists()  # inserted, not sent


def test_insert_refuses_another_shops_reply(client, staff, customer):
    other = shop_create(name="Other", country="FR", language="fr")
    membership_add(shop=other, user=staff, role=Membership.Role.STAFF)  # a member there, but acting here
    theirs = saved_reply_save(shop=other, name="Theirs", texts={"fr": "Secret"})
    client.force_login(staff)
    session = client.session
    session["dashboard_shop_id"] = customer.shop_id
    session.save()
    response = client.post(
        reverse("customer-send", args=[customer.pk]),
        {"insert_reply": "1", "saved_reply": theirs.pk, "body": ""},
    )
    assert response.status_code == 404


def test_the_owners_pages_read_in_french_with_no_inline_script(client, owner, shop, hours):
    import re

    shop.language = "fr"
    shop.save()
    client.force_login(owner)
    settings_page = client.get(reverse("dashboard:shop-settings")).content.decode()
    assert 'href="/dashboard/shop/replies/"' in settings_page and "Modèles WhatsApp" in settings_page
    for url, title in (
        (REPLIES, "Réponses enregistrées"),
        ("/dashboard/shop/templates/", "Modèles WhatsApp"),
    ):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200 and f"<h1>{title}</h1>" in html, url
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [] and " style=" not in html, url
    assert (
        "Champs à remplir : {first_name}"
        in client.get(reverse("saved-reply-edit", args=[hours.pk])).content.decode()
    )
