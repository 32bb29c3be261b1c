"""The inbox (issue 13, item 1) and the conversation view (item 2): who waits for a person, since when,
given to whom; the chat thread of a customer."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from customers.inbox import customer_thread
from customers.models import ChannelAddress, Customer, Interaction
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.webhook_posting import SMS_URL, post_twilio
from tests.webhook_posting import TWILIO_TOKEN as TOKEN
from webhooks.staff import staff_message_send

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT_SID = "AC" + "1" * 32
SHOP_NUMBER = "+33757000000"
INBOX = "/dashboard/inbox/"


@pytest.fixture(autouse=True)
def twilio_api(settings):
    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_ACCOUNT_SID = TOKEN, ACCOUNT_SID
    settings.PUBLIC_BASE_URL = ""
    with FakeTwilioAPI(account_sid=ACCOUNT_SID, auth_token=TOKEN) as fake:
        settings.TWILIO_API_BASE = fake.url
        yield fake


@pytest.fixture
def shop(shop):
    shop.opening_hours = "Mardi-samedi 10h-19h"
    shop.save()
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=SHOP_NUMBER)
    return shop


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def customer_writes(text, sender="+33611111111", sid="SM" + "1" * 32):
    form = json.loads((FIXTURES / "twilio" / "sms_text.json").read_text())
    form.update(MessageSid=sid, SmsSid=sid, From=sender, To=SHOP_NUMBER, Body=text)
    assert post_twilio(Client(), SMS_URL, form).status_code == 200
    return Customer.objects.get(phone=sender)


def waiting_ids(client, show="all"):
    return [customer.pk for customer in client.get(INBOX, {"show": show}).context["rows"]]


def test_an_escalated_customer_waits_in_the_inbox_and_an_answered_question_does_not(shop, owner):
    asked = customer_writes("Quels sont vos horaires ?", sender="+33611111111", sid="SM" + "1" * 32)
    complaint = "Je veux parler à quelqu'un, c'est une réclamation"
    upset = customer_writes(complaint, "+33622222222", "SM" + "2" * 32)
    # Both got an automatic answer; only the one handed over waits (a holding reply is not an answer).
    assert asked.interactions.filter(direction="outbound", is_automatic=True).exists()
    assert upset.interactions.filter(direction="outbound", is_automatic=True).exists()
    client = signed_in(owner)
    page = client.get(INBOX)
    assert [c.pk for c in page.context["rows"]] == [upset.pk]
    upset.refresh_from_db()
    assert upset.attention_since is not None
    html = page.content.decode()
    assert "c&#x27;est une réclamation" in html or "c'est une réclamation" in html
    assert "SMS" in html


def test_oldest_waiting_first_and_the_clock_starts_at_the_first_hand_over(shop, owner):
    first = customer_writes("Je veux parler à quelqu'un", "+33611111111", "SM" + "1" * 32)
    second = customer_writes("Je veux un remboursement", "+33622222222", "SM" + "2" * 32)
    started = Customer.objects.get(pk=first.pk).attention_since
    # The first customer writes again and is handed over again: still waiting since the first time.
    customer_writes("Toujours personne ? Je veux parler à quelqu'un", "+33611111111", "SM" + "3" * 32)
    assert Customer.objects.get(pk=first.pk).attention_since == started
    assert waiting_ids(signed_in(owner)) == [first.pk, second.pk]


def test_a_person_answering_takes_the_customer_out_of_the_inbox(shop, owner, staff):
    upset = customer_writes("Je veux parler à quelqu'un")
    staff_message_send(customer=upset, channel="sms", body="Bonjour, je vous appelle.", author=staff)
    assert waiting_ids(signed_in(owner)) == []
    assert not Customer.objects.get(pk=upset.pk).needs_attention


def test_mark_as_handled_from_the_inbox(shop, owner):
    upset = customer_writes("Je veux parler à quelqu'un")
    client = signed_in(owner)
    response = client.post(f"/dashboard/customers/{upset.pk}/resolve/", {"next": INBOX})
    assert response.status_code == 302 and response["Location"] == INBOX
    assert waiting_ids(client) == []
    assert Customer.objects.get(pk=upset.pk).attention_since is None


def test_mine_unassigned_and_all(shop, owner, staff):
    mine = customer_writes("Je veux parler à quelqu'un", "+33611111111", "SM" + "1" * 32)
    nobodys = customer_writes("Je veux un remboursement", "+33622222222", "SM" + "2" * 32)
    client = signed_in(staff)
    assign = f"/dashboard/customers/{mine.pk}/assign/"
    response = client.post(assign, {"assigned_to": staff.pk, "next": INBOX})
    assert response.status_code == 302
    assert waiting_ids(client, "mine") == [mine.pk]
    assert waiting_ids(client, "unassigned") == [nobodys.pk]
    assert waiting_ids(client, "all") == [mine.pk, nobodys.pk]
    counts = client.get(INBOX).context["counts"]
    assert counts == {"all": 2, "mine": 1, "unassigned": 1}


def test_a_conversation_cannot_be_given_to_someone_outside_the_shop(shop, owner, other_owner):
    upset = customer_writes("Je veux parler à quelqu'un")
    client = signed_in(owner)
    client.post(f"/dashboard/customers/{upset.pk}/assign/", {"assigned_to": other_owner.pk})
    assert Customer.objects.get(pk=upset.pk).assigned_to_id is None


def test_another_shop_cannot_see_or_assign_our_waiting_customers(shop, owner, other_owner):
    upset = customer_writes("Je veux parler à quelqu'un")
    outsider = signed_in(other_owner)
    assert waiting_ids(outsider) == []
    assert outsider.post(f"/dashboard/customers/{upset.pk}/assign/", {"assigned_to": ""}).status_code == 404
    assert outsider.post(f"/dashboard/customers/{upset.pk}/resolve/").status_code == 404
    assert Customer.objects.get(pk=upset.pk).needs_attention


def test_the_count_is_in_the_navigation_of_every_page(shop, owner):
    customer_writes("Je veux parler à quelqu'un")
    client = signed_in(owner)
    for page in ("/dashboard/customers/", INBOX, "/dashboard/shop/"):
        html = client.get(page).content.decode()
        assert 'id="inbox-count"' in html and ">1</span>" in html.split('id="inbox-count"')[1][:200]


def test_live_updates_send_rows_again_only_when_they_changed(shop, owner):
    client = signed_in(owner)
    empty = client.get("/dashboard/inbox/updates/").json()
    assert empty["counts"]["all"] == 0
    unchanged = client.get("/dashboard/inbox/updates/", {"after": empty["after"]}).json()
    assert unchanged["html"] == "" and unchanged["after"] == empty["after"]
    upset = customer_writes("Je veux parler à quelqu'un")
    changed = client.get("/dashboard/inbox/updates/", {"after": empty["after"]}).json()
    assert changed["after"] != empty["after"] and f'data-customer-id="{upset.pk}"' in changed["html"]
    assert changed["counts"]["all"] == 1
    # The rows' forms come back to the inbox, not to this JSON.
    assert 'name="next" value="/dashboard/inbox/?show=all"' in changed["html"]


# --- the conversation view ------------------------------------------------------------------------


def message(customer, text, *, direction="inbound", minutes_ago=0, **fields):
    return Interaction.objects.create(
        customer=customer,
        channel="sms",
        direction=direction,
        body=text,
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def test_the_conversation_is_a_thread_oldest_first_with_automatic_replies_marked(shop, owner):
    customer = Customer.objects.create(shop=shop, first_name="Julie", phone="+33611111111")
    message(customer, "Bonjour", minutes_ago=10)
    message(customer, "Bonjour Julie !", direction="outbound", minutes_ago=9, is_automatic=True)
    message(customer, "Avez-vous la robe bleue ?", minutes_ago=5)
    page = signed_in(owner).get(f"/dashboard/customers/{customer.pk}/")
    assert page.context["tab"] == "conversation"
    html = page.content.decode()
    thread = html.split('id="thread-list"')[1]
    order = [thread.index(text) for text in ("Bonjour</p>", "Bonjour Julie !", "Avez-vous la robe bleue")]
    assert order == sorted(order)
    assert 'class="bubble outbound automatic' in thread and 'class="bubble inbound' in thread
    # The send box sits under the thread.
    assert html.index('id="thread-list"') < html.index('id="send-title"')


def test_the_thread_pages_back_through_earlier_messages(shop):
    customer = Customer.objects.create(shop=shop, first_name="Julie", phone="+33611111111")
    sent = [message(customer, f"m{n}", minutes_ago=100 - n) for n in range(7)]
    latest, earlier = customer_thread(customer, size=3)
    assert [m.body for m in latest] == ["m4", "m5", "m6"] and earlier == sent[4].pk
    before, earlier = customer_thread(customer, before=earlier, size=3)
    assert [m.body for m in before] == ["m1", "m2", "m3"]
    first, earlier = customer_thread(customer, before=earlier, size=3)
    assert [m.body for m in first] == ["m0"] and earlier is None


def test_new_messages_arrive_as_bubbles_in_the_thread(shop, owner):
    customer = Customer.objects.create(shop=shop, first_name="Julie", phone="+33611111111")
    client = signed_in(owner)
    start = client.get(f"/dashboard/customers/{customer.pk}/").context["latest_id"]
    new = message(customer, "Vous êtes ouverts ?")
    updates = f"/dashboard/customers/{customer.pk}/updates/"
    data = client.get(updates, {"after": start, "view": "thread"}).json()
    assert len(data["entries"]) == 1 and 'class="bubble inbound' in data["entries"][0]
    assert f'data-interaction-id="{new.pk}"' in data["entries"][0]


def test_a_customer_writing_back_while_a_person_talks_to_them_waits_for_that_person(shop, owner, staff):
    customer = customer_writes("Je veux parler à quelqu'un", "+33611111111", "SM" + "1" * 32)
    staff_message_send(customer=customer, channel="sms", body="Bonjour, que puis-je faire ?", author=staff)
    assert waiting_ids(signed_in(owner)) == []
    # Automatic replies are paused while the person talks: the answer to this one is the person's.
    automatic = customer.interactions.filter(direction="outbound", is_automatic=True)
    before = automatic.count()
    customer_writes("Quels sont vos horaires samedi ?", "+33611111111", "SM" + "2" * 32)
    assert automatic.count() == before
    assert waiting_ids(signed_in(owner)) == [customer.pk]


def test_with_automatic_replies_off_every_question_waits_for_a_person(shop, owner):
    shop.auto_replies_enabled = False
    shop.save()
    customer = customer_writes("Quels sont vos horaires ?")
    assert not customer.interactions.filter(direction="outbound").exists()
    assert waiting_ids(signed_in(owner)) == [customer.pk]


def test_a_plain_thank_you_never_waits(shop, owner):
    shop.auto_replies_enabled = False
    shop.save()
    customer_writes("ok")
    assert waiting_ids(signed_in(owner)) == []


def test_inactive_people_and_odd_ids_cannot_be_given_a_conversation(shop, owner, staff):
    upset = customer_writes("Je veux parler à quelqu'un")
    staff.is_active = False
    staff.save()
    client = signed_in(owner)
    assign = f"/dashboard/customers/{upset.pk}/assign/"
    assert client.post(assign, {"assigned_to": staff.pk}).status_code == 302
    assert client.post(assign, {"assigned_to": "²"}).status_code == 302  # a digit to Python, not an id
    assert Customer.objects.get(pk=upset.pk).assigned_to_id is None


def test_a_delivery_status_that_changed_is_redrawn_in_the_thread(shop, owner):
    customer = Customer.objects.create(shop=shop, first_name="Julie", phone="+33611111111")
    sent = message(customer, "Votre robe est prête", direction="outbound", status="queued", author=owner)
    client = signed_in(owner)
    updates = f"/dashboard/customers/{customer.pk}/updates/"
    shown = {"after": sent.pk, "view": "thread", "statuses": f"{sent.pk}:queued"}
    assert client.get(updates, shown).json()["statuses"] == []
    Interaction.objects.filter(pk=sent.pk).update(status="delivered")
    changed = client.get(updates, shown).json()
    assert [s["id"] for s in changed["statuses"]] == [sent.pk]
    assert 'data-status="delivered"' in changed["statuses"][0]["html"]


def test_a_person_s_answer_that_was_not_delivered_puts_the_customer_back_in_the_inbox(
    shop, owner, staff, django_capture_on_commit_callbacks
):
    from tests.webhook_posting import STATUS_URL

    upset = customer_writes("Je veux parler à quelqu'un")
    with django_capture_on_commit_callbacks(execute=True):  # sent, as after the commit
        answer = staff_message_send(customer=upset, channel="sms", body="Je vous rappelle.", author=staff)
    answer.refresh_from_db()
    assert waiting_ids(signed_in(owner)) == []
    report = {
        "MessageSid": answer.provider_message_id,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "AccountSid": ACCOUNT_SID,
        "From": SHOP_NUMBER,
        "To": "+33611111111",
    }
    assert post_twilio(Client(), STATUS_URL, report).status_code in (200, 204)
    assert Interaction.objects.get(pk=answer.pk).status == "undelivered"
    assert waiting_ids(signed_in(owner)) == [upset.pk]


def test_clearing_the_flag_anywhere_stops_the_clock(shop):
    customer = Customer.objects.create(shop=shop, first_name="Julie", needs_attention=True)
    assert customer.attention_since is not None
    customer.needs_attention = False
    customer.save()  # as the admin's tick box does
    customer.refresh_from_db()
    assert customer.attention_since is None


def test_a_merge_keeps_the_longer_wait_and_who_looks_after_it(shop, staff):
    from customers.services import customer_merge

    earlier = timezone.now() - timedelta(hours=5)
    keep = Customer.objects.create(shop=shop, first_name="Julie", phone="+33611111111", needs_attention=True)
    other = Customer.objects.create(
        shop=shop, first_name="Julie", email="julie@example.com", needs_attention=True,
        attention_since=earlier, assigned_to=staff,
    )  # fmt: skip
    customer_merge(keep=keep, others=[other])
    keep.refresh_from_db()
    assert keep.attention_since == earlier and keep.assigned_to == staff


def test_the_pipeline_s_tags_read_in_the_shop_s_language(shop, owner):
    customer_writes("Bonjour")
    html = signed_in(owner).get("/dashboard/customers/").content.decode()
    assert 'class="tag">créé automatiquement<' in html and 'class="tag">auto-created<' not in html
