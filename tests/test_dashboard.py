"""The dashboard pages of owners and staff, through the URLs with Django's test client."""

import csv
import io
import json
import re
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import AuditEntry, ChannelAddress, Customer, Interaction, Membership, Note, Order
from customers.services import membership_add, shop_create, tags_get_or_create
from tests.fakes.twilio_api import FakeTwilioAPI

XSS = "<script>alert(1)</script>"
LIST = "/dashboard/customers/"
SID, TOKEN = "AC" + "2" * 32, "dashboard-twilio-token"


@pytest.fixture
def shop(shop):
    """An English-speaking shop with a Twilio number, so that assertions read the English strings."""
    shop.language = "en"
    shop.save()
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33757000000")
    return shop


@pytest.fixture
def customer(shop, make_customer):
    return make_customer(shop, first_name="Julie", last_name="Martin", phone="+33698765432")


@pytest.fixture
def as_owner(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def as_staff(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def twilio(settings):
    with FakeTwilioAPI(account_sid=SID, auth_token=TOKEN) as fake:
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
        settings.TWILIO_API_BASE = fake.url
        settings.PUBLIC_BASE_URL = "https://crm.example.com"
        yield fake


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    """POST to the send URL and run what it enqueued on commit (a test is a transaction never committed)."""

    def post(customer, **data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(detail(customer, "send/"), data)

    return post


def detail(customer, suffix=""):
    return f"/dashboard/customers/{customer.pk}/{suffix}"


def inbound(customer, body, channel="sms", **fields):
    return Interaction.objects.create(
        customer=customer, channel=channel, direction="inbound", body=body, status="received", **fields
    )


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def row_ids(response):
    return [c.pk for c in response.context["page"].object_list]


# --- sign-in, shops and roles ---------------------------------------------------------------------


def test_sign_in_lands_on_the_customer_list(client, owner):
    assert client.get(LIST).url.startswith("/accounts/login/?next=")
    response = client.post("/accounts/login/", {"username": "owner", "password": "pw-owner"})
    assert response.status_code == 302 and response.url == LIST
    assert client.get(LIST).status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get(LIST).status_code == 302


def test_root_redirects_to_the_dashboard(client):
    assert client.get("/").url == LIST


def test_password_reset_by_email(client, owner):
    response = client.post("/accounts/password_reset/", {"email": "owner@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body)[1]
    form_url = client.get(link).url  # Django swaps the token for a session-held one
    response = client.post(form_url, {"new_password1": "a-new-Passw0rd!", "new_password2": "a-new-Passw0rd!"})
    assert response.status_code == 302
    assert client.login(username="owner", password="a-new-Passw0rd!")


def test_a_user_without_a_shop_gets_a_clear_page(client, db):
    user = get_user_model().objects.create_user("nobody", password="pw")
    client.force_login(user)
    response = client.get(LIST, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert b"not a member of any shop" in response.content


def test_a_two_shop_user_switches_shops(client, shop, other_shop, owner, make_customer):
    membership_add(shop=other_shop, user=owner, role=Membership.Role.STAFF)
    mine = make_customer(shop, first_name="Mine")
    theirs = make_customer(other_shop, first_name="Theirs")
    client.force_login(owner)
    response = client.get(LIST)
    assert b'name="shop"' in response.content  # the switcher
    assert row_ids(response) == [mine.pk]  # "Boutique Coccinelle" sorts first
    assert client.post("/dashboard/shop/switch/", {"shop": other_shop.pk}).status_code == 302
    response = client.get(LIST)
    assert row_ids(response) == [theirs.pk]
    assert client.get(detail(mine)).status_code == 404  # everything follows the current shop
    assert client.get(detail(theirs)).status_code == 200
    assert client.get("/dashboard/customers/export.csv").status_code == 403  # staff in that shop


def test_switching_to_a_shop_of_someone_else_is_refused(as_owner, shop, other_shop, customer):
    as_owner.post("/dashboard/shop/switch/", {"shop": other_shop.pk})
    assert row_ids(as_owner.get(LIST)) == [customer.pk]


def test_a_one_shop_user_sees_no_switcher(as_owner, shop):
    response = as_owner.get(LIST)
    assert b'name="shop"' not in response.content and shop.name.encode() in response.content


def test_a_removed_membership_stops_at_once(as_owner, owner, shop, customer):
    Membership.objects.filter(user=owner).delete()
    assert as_owner.get(detail(customer)).status_code == 403


def test_french_by_default_for_a_french_shop(as_owner, shop):
    shop.language = "fr"
    shop.save()
    response = as_owner.get(LIST)
    assert '<html lang="fr">' in response.content.decode()
    assert "Clients au total" in response.content.decode()


def test_english_for_an_english_shop_and_the_users_choice_wins(as_owner, shop):
    assert "Total customers" in as_owner.get(LIST).content.decode()
    as_owner.post("/i18n/setlang/", {"language": "fr", "next": LIST})
    assert "Clients au total" in as_owner.get(LIST).content.decode()


def test_pages_carry_a_strict_csp_and_no_inline_script_or_style(as_owner, customer):
    inbound(customer, "Bonjour")
    Note.objects.create(customer=customer, body="note")
    for url in [LIST, detail(customer), detail(customer, "?tab=activity"), detail(customer, "?tab=notes"),
                detail(customer, "edit/"), detail(customer, "erase/"), "/dashboard/shop/"]:  # fmt: skip
        response = as_owner.get(url)
        html = response.content.decode()
        assert "script-src 'self'" in response["Content-Security-Policy"], url
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], url
        assert " style=" not in html and "<style" not in html and " on" + "click=" not in html, url


def test_the_login_page_has_the_csp_too(client):
    assert "default-src 'self'" in client.get("/accounts/login/")["Content-Security-Policy"]


# --- tenancy: another shop's customer is a 404 everywhere -------------------------------------------


def test_another_shops_customer_is_a_404_on_every_url(as_owner, other_shop, make_customer, twilio, send):
    foreign = make_customer(other_shop, first_name="Foreign")
    gets = ["", "?tab=activity", "?tab=notes", "updates/?after=0", "edit/", "export.json", "erase/"]
    for suffix in gets:
        assert as_owner.get(detail(foreign, suffix)).status_code == 404, suffix
    posts = {
        "notes/": {"body": "hi"},
        "resolve/": {},
        "edit/": {"first_name": "X"},
        "erase/": {"confirm": "on"},
        "send/": {"channel": "sms", "body": "hi"},
    }
    for suffix, data in posts.items():
        assert as_owner.post(detail(foreign, suffix), data).status_code == 404, suffix
    foreign.refresh_from_db()
    assert (
        foreign.first_name == "Foreign" and not foreign.notes.exists() and not foreign.interactions.exists()
    )
    assert twilio.requests == []


def test_the_list_and_its_export_show_only_the_current_shop(as_owner, customer, other_shop, make_customer):
    make_customer(other_shop, first_name="Foreign", phone="+33698765432")
    assert row_ids(as_owner.get(LIST, {"q": "06 98 76 54 32"})) == [customer.pk]
    assert [r["id"] for r in csv_rows(as_owner.get("/dashboard/customers/export.csv"))] == [str(customer.pk)]


def test_live_updates_never_show_another_shop(as_owner, customer, other_shop, make_customer):
    inbound(make_customer(other_shop, first_name="Foreign"), "secret of another shop")
    data = as_owner.get("/dashboard/customers/updates/", {"after": 0}).json()
    assert data["rows"] == [] and data["after"] == 0


# --- roles --------------------------------------------------------------------------------------------


def test_staff_cannot_export_erase_or_edit_the_shop(as_staff, shop, customer):
    assert as_staff.get("/dashboard/customers/export.csv").status_code == 403
    assert as_staff.get(detail(customer, "export.json")).status_code == 403
    assert as_staff.get(detail(customer, "erase/")).status_code == 403
    assert as_staff.post(detail(customer, "erase/"), {"confirm": "on"}).status_code == 403
    assert as_staff.get("/dashboard/shop/").status_code == 403
    assert as_staff.post("/dashboard/shop/", {"name": "Mine now"}).status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()
    shop.refresh_from_db()
    assert shop.name == "Boutique Coccinelle"
    page = as_staff.get(detail(customer)).content.decode()
    assert "export.json" not in page and "erase/" not in page and "/dashboard/shop/" not in page
    assert "export.csv" not in as_staff.get(LIST).content.decode()


def test_staff_read_add_notes_resolve_and_edit(as_staff, customer):
    customer.needs_attention = True
    customer.save()
    assert as_staff.get(detail(customer)).status_code == 200
    assert as_staff.post(detail(customer, "notes/"), {"body": "Called her"}).status_code == 302
    assert as_staff.post(detail(customer, "resolve/")).status_code == 302
    assert as_staff.post(detail(customer, "edit/"), _edit_data(customer, city="Lyon")).status_code == 302
    customer.refresh_from_db()
    assert customer.city == "Lyon" and not customer.needs_attention and customer.notes.count() == 1


# --- the list -----------------------------------------------------------------------------------------


def test_stat_cards(as_owner, shop, make_customer):
    now = timezone.now()
    last_month = now - timedelta(days=40)
    make_customer(shop, first_name="New", last_contact_at=now)  # new, active
    vip = make_customer(shop, first_name="Vip", segment="vip", created_at=last_month)
    Order.objects.create(shop=shop, customer=vip, reference="A1", amount=Decimal("50"), placed_at=now)
    Order.objects.create(shop=shop, customer=vip, reference="A2", amount=Decimal("60"), placed_at=now)
    make_customer(
        shop, first_name="Old", created_at=last_month, last_contact_at=last_month, needs_attention=True
    )
    stats = as_owner.get(LIST).context["stats"]
    assert stats == {"total": 3, "new_this_month": 1, "vip": 1, "active_30_days": 2, "needs_attention": 1}


def test_new_this_month_counts_from_the_first_in_the_shops_time_zone(shop, make_customer):
    from customers.selectors import dashboard_stats

    shop.time_zone = "Pacific/Auckland"  # UTC+13 in November: the month starts on Oct 31 at 11:00 UTC
    now = timezone.datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    make_customer(shop, created_at=timezone.datetime(2026, 10, 31, 12, 0, tzinfo=UTC))
    make_customer(shop, created_at=timezone.datetime(2026, 10, 31, 10, 0, tzinfo=UTC))
    assert dashboard_stats(shop, now=now)["new_this_month"] == 1


def test_search_by_a_local_phone_name_or_email(as_owner, shop, customer, make_customer):
    other = make_customer(shop, first_name="Paul", email="paul@example.com")
    assert row_ids(as_owner.get(LIST, {"q": "06 98 76 54 32"})) == [customer.pk]
    assert row_ids(as_owner.get(LIST, {"q": "+33 6 98 76 54 32"})) == [customer.pk]
    assert row_ids(as_owner.get(LIST, {"q": "martin"})) == [customer.pk]
    assert row_ids(as_owner.get(LIST, {"q": "PAUL@example.com"})) == [other.pk]


def test_filters(as_owner, shop, make_customer):
    vip = make_customer(shop, first_name="Vip", segment="vip", preferred_channel="whatsapp")
    tagged = make_customer(shop, first_name="Tagged", preferred_channel="sms", needs_attention=True)
    (tag,) = tags_get_or_create(shop=shop, names=["fidèle"])
    tagged.tags.add(tag)
    vip.tags.add(tag, *tags_get_or_create(shop=shop, names=["autre"]))  # two tags: listed once
    assert row_ids(as_owner.get(LIST, {"segment": "vip"})) == [vip.pk]
    assert row_ids(as_owner.get(LIST, {"channel": "sms"})) == [tagged.pk]
    assert sorted(row_ids(as_owner.get(LIST, {"tag": tag.pk}))) == sorted([vip.pk, tagged.pk])
    assert row_ids(as_owner.get(LIST, {"attention": "on"})) == [tagged.pk]
    assert row_ids(as_owner.get(LIST, {"tag": tag.pk, "channel": "whatsapp"})) == [vip.pk]
    assert len(row_ids(as_owner.get(LIST, {"segment": "nonsense", "tag": "999999"}))) == 2  # ignored


def test_sorts(as_owner, shop, make_customer):
    now = timezone.now()
    a = make_customer(shop, first_name="Anne", last_name="Zola", last_contact_at=now - timedelta(days=3))
    b = make_customer(shop, first_name="Bea", last_name="Adam", last_contact_at=now)
    c = make_customer(shop, first_name="Cleo", last_name="Moreau")  # never contacted: last
    Order.objects.create(shop=shop, customer=c, reference="C1", amount=Decimal("900"))
    Order.objects.create(shop=shop, customer=a, reference="A1", amount=Decimal("20"))
    assert row_ids(as_owner.get(LIST)) == [b.pk, a.pk, c.pk]
    assert row_ids(as_owner.get(LIST, {"sort": "name"})) == [b.pk, c.pk, a.pk]
    assert row_ids(as_owner.get(LIST, {"sort": "revenue"})) == [c.pk, a.pk, b.pk]


def test_pagination_keeps_the_filters(as_owner, shop, make_customer):
    for n in range(30):
        make_customer(shop, first_name=f"Vip{n}", segment="vip")
    make_customer(shop, first_name="Prospect")
    response = as_owner.get(LIST, {"segment": "vip", "per_page": 25})
    assert len(row_ids(response)) == 25 and response.context["page"].paginator.count == 30
    assert "segment=vip&amp;per_page=25&amp;page=2" in response.content.decode()
    assert len(row_ids(as_owner.get(LIST, {"segment": "vip", "per_page": 25, "page": 2}))) == 5


def _list_queries(client, shop, make_customer, count):
    for n in range(count):
        customer = make_customer(shop, first_name=f"C{n}", needs_attention=n % 2 == 0)
        customer.tags.add(*tags_get_or_create(shop=shop, names=[f"t{n % 3}", "all"]))
        inbound(customer, f"hello {n}")
        Order.objects.create(shop=shop, customer=customer, reference=f"R{n}-{count}", amount=Decimal("10"))
    client.get(LIST)  # the first request stores the current shop in the session (a write)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"per_page": 100})
    assert len(response.context["page"].object_list) == count
    return len(queries)


def test_the_list_runs_a_constant_number_of_queries(as_owner, shop, make_customer):
    few = _list_queries(as_owner, shop, make_customer, 5)
    Customer.objects.all().delete()
    many = _list_queries(as_owner, shop, make_customer, 40)
    assert few == many <= 12


def test_csv_export_is_exactly_the_filtered_view(as_owner, shop, make_customer):
    vip = make_customer(shop, first_name="=cmd|' /C calc'!A0", segment="vip", email="vip@example.com")
    make_customer(shop, first_name="Other", segment="vip", preferred_channel="whatsapp")
    make_customer(shop, first_name="Prospect")
    params = {"segment": "vip", "channel": "", "q": "vip@"}
    shown = row_ids(as_owner.get(LIST, params))
    response = as_owner.get("/dashboard/customers/export.csv", params)
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [int(r["id"]) for r in rows] == shown == [vip.pk]
    assert rows[0]["first_name"].startswith("'=cmd") and rows[0]["phone"].startswith("'+33")
    assert list(rows[0])[:3] == ["id", "first_name", "last_name"]
    everything = csv_rows(as_owner.get("/dashboard/customers/export.csv"))
    assert len(everything) == 3  # all pages, not just the first


def test_the_export_link_carries_the_filters(as_owner, customer):
    html = as_owner.get(LIST, {"segment": "vip", "q": "jul"}).content.decode()
    assert 'href="/dashboard/customers/export.csv?segment=vip&amp;q=jul"' in html


# --- escaping -----------------------------------------------------------------------------------------


def test_untrusted_text_stays_text_everywhere(as_owner, shop, make_customer):
    customer = make_customer(shop, first_name=XSS, last_name="Martin")
    inbound(customer, f"Hello {XSS}")
    Note.objects.create(customer=customer, body=f"note {XSS}")
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for url in [LIST, detail(customer), detail(customer, "?tab=activity"), detail(customer, "?tab=notes"),
                detail(customer, "edit/")]:  # fmt: skip
        html = as_owner.get(url).content.decode()
        assert XSS not in html and escaped in html, url
    list_update = as_owner.get("/dashboard/customers/updates/", {"after": 0}).json()
    assert XSS not in list_update["rows"][0]["html"] and escaped in list_update["rows"][0]["html"]
    detail_update = as_owner.get(detail(customer, "updates/"), {"after": 0}).json()
    assert XSS not in detail_update["entries"][0] and escaped in detail_update["entries"][0]


# --- the customer page --------------------------------------------------------------------------------


def test_detail_shows_profile_figures_and_tabs(as_owner, shop, customer):
    customer.email, customer.whatsapp_user_id, customer.language = "julie@example.com", "julie.m", "fr"
    customer.needs_attention, customer.opted_out_at = True, timezone.now()
    customer.address_line1, customer.city = "3 rue des Lilas", "Paris"
    customer.save()
    customer.tags.add(*tags_get_or_create(shop=shop, names=["fidèle"]))
    Order.objects.create(shop=shop, customer=customer, reference="O1", amount=Decimal("30"))
    Order.objects.create(shop=shop, customer=customer, reference="O2", amount=Decimal("50"))
    response = as_owner.get(detail(customer, "?tab=overview"))
    html = response.content.decode()
    expected = ["JM", "Julie Martin", "+33698765432", "julie@example.com", "julie.m", "fidèle", "Prospect",
                "Opted out of messages", "Needs attention", "Mark as handled", "3 rue des Lilas"]  # fmt: skip
    for text in expected:
        assert text in html, text
    figures = response.context["figures"]
    assert figures["orders_count"] == 2 and figures["revenue"] == Decimal("80")
    assert figures["average_basket"] == Decimal("40.00")


def test_activity_timeline_mixes_messages_notes_orders_and_merges_newest_first(
    as_owner, shop, customer, owner
):
    now = timezone.now()
    inbound(customer, "first message", occurred_at=now - timedelta(hours=5))
    Order.objects.create(
        shop=shop, customer=customer, reference="O1", amount=1, placed_at=now - timedelta(hours=4)
    )
    Note.objects.create(customer=customer, body="a note", author=owner, created_at=now - timedelta(hours=3))
    merged = {"merged_customer": {"first_name": "Jule", "last_name": "M"}}
    AuditEntry.objects.create(
        shop=shop, customer=customer, action="merge", created_at=now - timedelta(hours=2), details=merged
    )
    Interaction.objects.create(customer=customer, channel="whatsapp", direction="outbound", body="reply",
                               status="delivered", author=owner, occurred_at=now - timedelta(hours=1),
                               media=[{"url": "https://example.com/p.jpg", "content_type": "image/jpeg"},
                                      {"url": "javascript:alert(1)", "content_type": "x"}])  # fmt: skip
    response = as_owner.get(detail(customer), {"tab": "activity"})
    kinds = [e.kind for e in response.context["timeline"].entries]
    assert kinds == ["message", "merge", "note", "order", "message"]
    html = response.content.decode()
    assert "delivered" in html and "WhatsApp" in html and 'href="https://example.com/p.jpg"' in html
    assert 'href="javascript' not in html and "Jule M" in html


def test_activity_is_paginated(as_owner, customer):
    for n in range(45):
        inbound(customer, f"message {n}", occurred_at=timezone.now() - timedelta(minutes=n))
    first = as_owner.get(detail(customer), {"tab": "activity"}).context["timeline"]
    third = as_owner.get(detail(customer), {"tab": "activity", "page": 3}).context["timeline"]
    assert [e.item.body for e in first.entries][:2] == ["message 0", "message 1"] and first.has_next
    assert len(third.entries) == 5 and not third.has_next and third.has_previous


def test_add_a_note(as_owner, owner, customer):
    response = as_owner.post(detail(customer, "notes/"), {"body": "  Wants the blue dress  "})
    assert response.status_code == 302 and response.url.endswith("?tab=notes")
    note = customer.notes.get()
    assert note.body == "Wants the blue dress" and note.author == owner
    html = as_owner.get(response.url).content.decode()
    assert "Wants the blue dress" in html and "owner" in html
    assert as_owner.post(detail(customer, "notes/"), {"body": "   "}).status_code == 400


def test_resolve_needs_attention(as_owner, customer):
    customer.needs_attention = True
    customer.save()
    response = as_owner.post(detail(customer, "resolve/"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert not customer.needs_attention


# --- sending ------------------------------------------------------------------------------------------


def test_send_sms_through_the_provider(as_owner, owner, shop, customer, twilio, send):
    before = timezone.now()
    response = send(customer, channel="sms", body="Votre robe est arrivée")
    assert response.status_code == 302 and response.url.endswith("?tab=conversation")
    sent = customer.interactions.get(direction="outbound")
    assert sent.author == owner and not sent.is_automatic and sent.provider == "twilio"
    assert sent.provider_message_id.startswith("SM") and sent.status == "queued"
    form = twilio.requests[0].form()
    assert form["To"] == "+33698765432" and form["From"] == "+33757000000"
    assert form["Body"] == "Votre robe est arrivée"
    customer.refresh_from_db()
    pause = customer.auto_replies_paused_until - before
    assert timedelta(minutes=239) < pause <= timedelta(minutes=241)
    assert "Votre robe est arrivée" in as_owner.get(response.url).content.decode()


def test_a_person_writing_pauses_the_automatic_replies(as_owner, customer, twilio, send):
    from webhooks.autoreply import _silence_reason
    from webhooks.replies import Action, Decision

    send(customer, channel="sms", body="Hello")
    customer.refresh_from_db()
    decision = Decision(
        language="fr", intent="greeting", action=Action.REPLY, text="auto", needs_attention=False
    )
    message = inbound(customer, "Bonjour")
    assert (
        _silence_reason(customer, decision, message) == "a person from the shop is handling the conversation"
    )


def test_send_refused_when_opted_out(as_owner, customer, twilio, send):
    customer.opted_out_at = timezone.now()
    customer.save()
    response = send(customer, channel="sms", body="Hello")
    assert response.status_code == 400
    assert "The customer opted out of messages" in response.content.decode()
    assert not customer.interactions.exists() and twilio.requests == []


def test_send_refused_when_the_whatsapp_window_is_closed(as_owner, customer, twilio, send):
    inbound(customer, "old", channel="whatsapp", occurred_at=timezone.now() - timedelta(hours=25))
    response = send(customer, channel="whatsapp", body="Hello")
    assert response.status_code == 400
    assert "within 24 hours" in response.content.decode() and "window is closed" in response.content.decode()
    assert not customer.interactions.filter(direction="outbound").exists()
    assert "Hello</textarea>" in response.content.decode()  # what she typed is kept


def test_send_whatsapp_inside_the_window(as_owner, customer, twilio, send):
    inbound(customer, "Bonjour", channel="whatsapp", occurred_at=timezone.now() - timedelta(hours=2))
    assert send(customer, channel="whatsapp", body="Oui").status_code == 302
    assert twilio.requests[0].form()["To"] == "whatsapp:+33698765432"


def test_the_refusal_reads_in_french_for_a_french_shop(as_owner, shop, customer, twilio, send):
    shop.language = "fr"
    shop.save()
    customer.opted_out_at = timezone.now()
    customer.save()
    response = send(customer, channel="sms", body="Hello")
    assert "Le client s&#x27;est désinscrit des messages" in response.content.decode()


def test_a_provider_error_shows_on_the_timeline_with_its_reason(as_owner, customer, twilio, send):
    twilio.fail_next_with(400, 21211, "The 'To' number is not a valid phone number.")
    response = send(customer, channel="sms", body="Hello")
    assert response.status_code == 302
    sent = customer.interactions.get(direction="outbound")
    assert sent.status == "failed"
    html = as_owner.get(response.url).content.decode()
    assert "Not sent:" in html and "is not a valid phone number" in html


def test_send_refused_when_the_shop_has_no_number(as_owner, shop, customer, twilio, send):
    ChannelAddress.objects.filter(shop=shop).delete()
    response = send(customer, channel="sms", body="Hello")
    assert response.status_code == 400 and "no number to send from" in response.content.decode()


# --- edit, export, erase ------------------------------------------------------------------------------


def _edit_data(customer, **changes):
    data = {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": customer.phone or "",
        "email": customer.email or "",
        "whatsapp_user_id": customer.whatsapp_user_id or "",
        "preferred_channel": customer.preferred_channel,
        "language": customer.language,
        "segment": customer.segment,
        "tags": "",
        "address_line1": "",
        "address_line2": "",
        "postal_code": "",
        "city": "",
        "country": "",
    }
    return {**data, **changes}


def test_edit_normalises_and_saves(as_owner, shop, customer):
    data = _edit_data(customer, first_name="Juliette", phone="06 11 22 33 44", email="JULIE@Example.com",
                      tags="fidèle, robe , fidèle", segment="vip")  # fmt: skip
    response = as_owner.post(detail(customer, "edit/"), data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.first_name == "Juliette" and customer.name_source == "human"
    assert customer.phone == "+33611223344" and customer.email == "julie@example.com"
    assert sorted(customer.tags.values_list("name", flat=True)) == ["fidèle", "robe"]
    assert customer.segment == "vip" and customer.segment_manual


def test_edit_refuses_a_duplicate_phone_with_a_link_to_the_other_customer(
    as_owner, shop, customer, make_customer
):
    other = make_customer(shop, first_name="Paul", phone="+33611223344", email="paul@example.com")
    response = as_owner.post(detail(customer, "edit/"), _edit_data(customer, phone="06 11 22 33 44"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Another customer of this shop already has it." in html
    assert f'href="/dashboard/customers/{other.pk}/"' in html and "Open Paul" in html
    response = as_owner.post(detail(customer, "edit/"), _edit_data(customer, email="PAUL@example.com"))
    assert (
        response.status_code == 400
        and f'href="/dashboard/customers/{other.pk}/"' in response.content.decode()
    )
    customer.refresh_from_db()
    assert customer.phone == "+33698765432" and customer.email is None


def test_edit_refuses_an_invalid_phone(as_owner, customer):
    response = as_owner.post(detail(customer, "edit/"), _edit_data(customer, phone="12"))
    assert response.status_code == 400 and "not a valid phone number" in response.content.decode()


def test_export_one_customers_data_as_json(as_owner, customer):
    inbound(customer, "Bonjour")
    response = as_owner.get(detail(customer, "export.json"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["profile"]["phone"] == "+33698765432" and data["interactions"][0]["body"] == "Bonjour"


def test_the_pages_export_describes_files_without_the_providers_handles(as_owner, customer):
    # A Twilio medium's URL opens with the account's credentials, Meta's id fetches the bytes.
    media = [{"url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
              "media_id": "12345", "content_type": "image/jpeg", "filename": "robe.jpg"}]  # fmt: skip
    Interaction.objects.create(customer=customer, channel="sms", direction="inbound", media=media)
    data = json.loads(as_owner.get(detail(customer, "export.json")).content)
    assert data["interactions"][0]["media"] == [{"content_type": "image/jpeg", "filename": "robe.jpg"}]


def test_erase_needs_a_confirmation_then_removes_personal_data(as_owner, shop, customer):
    inbound(customer, "Bonjour")
    Order.objects.create(shop=shop, customer=customer, reference="O1", amount=Decimal("30"))
    page = as_owner.get(detail(customer, "erase/"))
    assert page.status_code == 200 and b'name="confirm"' in page.content
    assert as_owner.post(detail(customer, "erase/"), {}).status_code == 400
    assert Customer.objects.filter(pk=customer.pk).exists()
    response = as_owner.post(detail(customer, "erase/"), {"confirm": "on"})
    assert response.status_code == 302 and response.url == LIST
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert not Interaction.objects.filter(body="Bonjour").exists()
    assert Order.objects.get(reference="O1").customer is None
    assert AuditEntry.objects.filter(shop=shop, action="erase").exists()
    assert as_owner.get(detail(customer)).status_code == 404


# --- the shop -----------------------------------------------------------------------------------------


def test_owner_edits_the_shop_settings(as_owner, shop):
    response = as_owner.get("/dashboard/shop/")
    data = {**response.context["form"].initial, "name": "Maison Coccinelle", "website": "maison.example",
            "auto_replies_enabled": "", "time_zone": "Europe/Brussels"}  # fmt: skip
    data = {k: "" if v is None else v for k, v in data.items() if k != "id"}
    assert as_owner.post("/dashboard/shop/", data).status_code == 302
    shop.refresh_from_db()
    assert shop.name == "Maison Coccinelle" and not shop.auto_replies_enabled
    assert shop.website == "https://maison.example" and shop.time_zone == "Europe/Brussels"
    data["time_zone"] = "Mars/Olympus"
    assert as_owner.post("/dashboard/shop/", data).status_code == 400


# --- live updates ---------------------------------------------------------------------------------------


def test_list_updates_return_the_rows_of_customers_who_wrote(as_owner, shop, customer, make_customer):
    quiet = make_customer(shop, first_name="Quiet", segment="vip")
    start = as_owner.get(LIST).context["latest_id"]
    message = inbound(customer, "Vous avez du 38 ?")
    data = as_owner.get("/dashboard/customers/updates/", {"after": start}).json()
    assert data["after"] == message.pk and [r["id"] for r in data["rows"]] == [customer.pk]
    assert "Vous avez du 38 ?" in data["rows"][0]["html"] and "Julie Martin" in data["announce"]
    assert as_owner.get("/dashboard/customers/updates/", {"after": message.pk}).json()["rows"] == []
    filtered = as_owner.get("/dashboard/customers/updates/", {"after": start, "segment": "vip"}).json()
    assert filtered["rows"] == [] and quiet.pk  # the filtered list does not show her


def test_detail_updates_return_new_messages(as_owner, customer):
    start = as_owner.get(detail(customer)).context["latest_id"]
    message = inbound(customer, "Merci !")
    data = as_owner.get(detail(customer, "updates/"), {"after": start}).json()
    assert data["after"] == message.pk and len(data["entries"]) == 1 and "Merci !" in data["entries"][0]
    assert f'data-interaction-id="{message.pk}"' in data["entries"][0]
    assert as_owner.get(detail(customer, "updates/"), {"after": "junk"}).status_code == 200


def test_pages_load_their_own_static_files(as_owner):
    from django.contrib.staticfiles import finders

    html = as_owner.get(LIST).content.decode()
    urls = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
    assert urls == {  # nothing from a CDN
        "/static/dashboard/live.js",
        "/static/dashboard/copy.js",
        "/static/dashboard/dashboard.css",
        "/static/dashboard/conversation.css",
    }
    assert all(finders.find(url.removeprefix("/static/")) for url in urls)


def test_a_second_shop_owner_is_isolated(client, db):
    a = shop_create(name="A", country="FR", language="en")
    b = shop_create(name="B", country="FR", language="en")
    user = get_user_model().objects.create_user("solo", password="pw")
    membership_add(shop=b, user=user, role=Membership.Role.OWNER)
    Customer.objects.create(shop=a, first_name="Hidden")
    client.force_login(user)
    assert "Hidden" not in client.get(LIST).content.decode()
    assert reverse("dashboard:customer-list") == LIST
