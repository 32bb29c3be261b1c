"""From raw messages and orders to the page and its CSV, nothing replaced: a known October 2026 in Paris,
whose last Sunday is 25 hours long (daylight saving ends), rebuilt as `rebuild_stats` does, then read
through /dashboard/analytics/ and export.csv as the owner sees them."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from customers.models import Customer, Interaction, Order

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
OCTOBER = {"period": "custom", "start": "2026-10-19", "end": "2026-10-25"}  # Monday to the long Sunday


def message(customer, when, direction="inbound", **fields):
    return Interaction.objects.create(
        customer=customer, channel="sms", direction=direction, body="…", occurred_at=when, **fields
    )


@pytest.fixture
def october(shop, owner, make_customer):
    """Three customers in the week of 19 October: Julie answered automatically in 4 s; Léa handed over,
    then answered by the owner 30 minutes later; Inès wrote at 23:30 on the long Sunday (22:30 UTC, the
    clocks having gone back at 03:00), and ordered two days later."""
    shop.language = "en"
    shop.save()
    julie, lea, ines = (make_customer(shop, first_name=name) for name in ("Julie", "Léa", "Inès"))
    Customer.objects.filter(pk__in=[julie.pk, lea.pk]).update(
        created_at=datetime(2026, 10, 20, 10, tzinfo=PARIS), source="sms"
    )
    Customer.objects.filter(pk=ines.pk).update(
        created_at=datetime(2026, 10, 25, 23, 30, tzinfo=PARIS), source="whatsapp"
    )
    asked = message(julie, datetime(2026, 10, 20, 10, 0, tzinfo=PARIS))
    message(
        julie,
        datetime(2026, 10, 20, 10, 0, 4, tzinfo=PARIS),
        "outbound",
        is_automatic=True,
        in_reply_to=asked,
        raw_payload={"_reply_kind": "answer"},
    )
    message(lea, datetime(2026, 10, 22, 15, 0, tzinfo=PARIS))
    message(
        lea,
        datetime(2026, 10, 22, 15, 0, 3, tzinfo=PARIS),
        "outbound",
        is_automatic=True,
        raw_payload={"_reply_kind": "handover"},
    )
    message(lea, datetime(2026, 10, 22, 15, 30, tzinfo=PARIS), "outbound", author=owner)
    message(ines, datetime(2026, 10, 25, 23, 30, tzinfo=PARIS))
    Order.objects.create(
        shop=shop,
        customer=ines,
        reference="A-1",
        amount=Decimal("120.50"),
        placed_at=datetime(2026, 10, 27, 11, tzinfo=PARIS),
    )
    call_command("rebuild_stats", "--shop", shop.slug, "--since", "2026-10-01", stdout=io.StringIO())
    return shop


def test_the_page_shows_the_known_week(client, owner, october):
    client.force_login(owner)
    page = client.get("/dashboard/analytics/", OCTOBER)

    assert page.status_code == 200
    cards = {h.key: (h.value, h.previous) for h in page.context["headlines"]}
    assert cards["in"] == ("3", "0")
    assert cards["out"] == ("3", "0")
    assert cards["auto"] == ("33.3 %", "—")  # Julie's; Léa's was handed over; Inès's waits
    assert cards["wait-auto"] == ("4 s", "—")
    assert cards["wait-human"] == ("30 min", "—")  # from Léa's question: the hand-over ends no wait
    assert cards["new"][0] == "3"
    assert cards["conversion"][0] == "33.3 %"  # Inès ordered two days after writing


def test_the_csv_says_the_same_and_the_long_sunday_is_one_day(client, owner, october):
    client.force_login(owner)

    def section(name):
        response = client.get("/dashboard/analytics/export.csv", {**OCTOBER, "section": name})
        assert response.status_code == 200
        return list(csv.reader(io.StringIO(response.content.decode())))

    # Seven days, the 25-hour Sunday one of them, Inès's 23:30 message on it (22:30 UTC).
    assert section("messages")[1:] == [
        ["2026-10-19", "0", "0", "0", "0"],
        ["2026-10-20", "1", "0", "1", "0"],
        ["2026-10-21", "0", "0", "0", "0"],
        ["2026-10-22", "1", "0", "2", "0"],
        ["2026-10-23", "0", "0", "0", "0"],
        ["2026-10-24", "0", "0", "0", "0"],
        ["2026-10-25", "1", "0", "0", "0"],
    ]
    assert section("automation")[1:] == [
        ["Inbound messages", "3", "", "0", ""],
        ["Answered automatically", "1", "33.3", "0", ""],
        ["Escalated to a person", "1", "33.3", "0", ""],
        ["Opted out", "0", "0.0", "0", ""],
    ]
    response = section("response")
    assert response[1] == ["Automatic", "1", "4.0", "4.0"]
    assert response[3] == ["By a person", "1", "1800.0", "1800.0"]
    assert section("customers")[1:] == [
        ["New customers from SMS", "2", "0"],
        ["New customers from WhatsApp", "1", "0"],
        ["New customers", "3", "0"],
        ["Conversations with returning customers", "0", "0"],
    ]
    assert section("conversion")[1:] == [
        ["Conversations", "3", "0"],
        ["Followed by an order within 7 days", "1", "0"],
        ["Conversion (%)", "33.3", ""],
    ]
    assert section("revenue")[1:] == []  # Inès's order is of the 27th: after the period


def test_a_view_brings_today_up_to_date_at_most_once_a_minute(client, owner, shop, make_customer):
    """Each view asks a task for today's row when nobody did in the last minute (tests run tasks at once,
    so the page shows it; in production the next view does)."""
    from django.core.cache import cache
    from django.utils import timezone

    shop.language = "en"
    shop.save()
    customer = make_customer(shop)
    client.force_login(owner)

    def received_today():
        page = client.get("/dashboard/analytics/", {"period": "7d"})
        return {h.key: h.value for h in page.context["headlines"]}["in"]

    message(customer, timezone.now())
    assert received_today() == "1"
    message(customer, timezone.now())
    assert received_today() == "1"  # asked a moment ago: the row stays as it is
    cache.delete(f"analytics:today-asked:{shop.pk}")  # a minute later
    assert received_today() == "2"


def test_a_cache_or_broker_that_fails_leaves_the_page_as_stored(client, owner, shop, monkeypatch, caplog):
    import analytics.views

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(analytics.views.refresh_today, "apply_async", down)
    client.force_login(owner)

    assert client.get("/dashboard/analytics/").status_code == 200
    assert "not refreshed (broker down)" in caplog.text
