"""The daily aggregates computed from known messages, orders and holds (analytics.aggregate), and the
reply-kind marker the automatic replies leave for them (webhooks.autoreply)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from analytics import aggregate
from analytics.aggregate import MAX_WAITS, first_id_since, sample, stats_rebuild, stats_refresh
from analytics.models import DailyStats
from catalog.models import Hold, Product, Variant
from customers.models import Customer, Interaction, Order
from shopinfo.models import ShopProfile
from webhooks import autoreply

pytestmark = pytest.mark.django_db

PARIS, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")
DAY = date(2026, 6, 10)  # a Wednesday


def at(day: date, hour: int, minute: int = 0, second: int = 0, zone=PARIS) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)


def inbound(customer, when, channel="sms", **fields) -> Interaction:
    return Interaction.objects.create(
        customer=customer, channel=channel, direction="inbound", body="?", occurred_at=when, **fields
    )


def automatic(customer, when, kind, reply_to, channel="sms") -> Interaction:
    payload = {"_reply_kind": kind} if kind else {}
    return Interaction.objects.create(
        customer=customer,
        channel=channel,
        direction="outbound",
        body="auto",
        occurred_at=when,
        is_automatic=True,
        in_reply_to=reply_to,
        raw_payload=payload,
    )


def by_person(customer, when, user, channel="sms") -> Interaction:
    return Interaction.objects.create(
        customer=customer, channel=channel, direction="outbound", body="hi", occurred_at=when, author=user
    )


def row(shop, day=DAY) -> DailyStats:
    return DailyStats.objects.get(shop=shop, day=day)


@pytest.fixture
def person(db):
    return get_user_model().objects.create_user(username="clerk", password="pw-clerk")


@pytest.fixture
def paris(shop):
    shop.time_zone = "Europe/Paris"
    shop.save()
    return shop


def test_messages_by_channel_and_what_became_of_each_inbound_message(paris, make_customer, person):
    answered, handed, stopped = (make_customer(paris) for _ in range(3))
    question = inbound(answered, at(DAY, 10))
    automatic(answered, at(DAY, 10, 0, 5), "answer", question)
    first = inbound(handed, at(DAY, 11), channel="whatsapp")
    second = inbound(handed, at(DAY, 11, 1), channel="whatsapp")
    automatic(handed, at(DAY, 11, 1, 5), "handover", second, channel="whatsapp")
    # Answered automatically after the hand-over: the customer still waits for a person.
    later = inbound(handed, at(DAY, 11, 20), channel="whatsapp")
    automatic(handed, at(DAY, 11, 30), "answer", later, channel="whatsapp")
    by_person(handed, at(DAY, 12, 1), person, channel="whatsapp")
    stop = inbound(stopped, at(DAY, 15))
    automatic(stopped, at(DAY, 15, 0, 3), "opt_out", stop)
    inbound(stopped, at(DAY, 15, 1), message_type="reaction")  # acts on a message: not one to count
    assert first.pk

    stats_rebuild(paris, DAY, DAY)

    stats = row(paris)
    assert stats.messages_in == {"sms": 2, "whatsapp": 3}
    assert stats.messages_out == {"sms": 2, "whatsapp": 3}
    assert (stats.inbound_answered_auto, stats.inbound_escalated, stats.inbound_opted_out) == (2, 2, 1)
    assert stats.waits_auto == [5.0]
    assert stats.waits_human == [3660.0]  # 11:00 to 12:01: the hand-over and the later answer end nothing
    assert stats.conversations == 3


def test_a_reply_without_marker_answers_when_it_replies_and_a_reminder_answers_nothing(paris, make_customer):
    old, reminded = make_customer(paris), make_customer(paris)
    question = inbound(old, at(DAY, 9))
    automatic(old, at(DAY, 9, 0, 10), "", question)  # recorded before the marker
    inbound(reminded, at(DAY, 9))
    automatic(reminded, at(DAY, 9, 30), "", None)  # a hold reminder: answers no message

    stats_rebuild(paris, DAY, DAY)

    stats = row(paris)
    assert stats.inbound_answered_auto == 1
    assert stats.waits_auto == [10.0]


def test_a_message_at_half_past_eleven_at_night_lands_on_the_shops_local_day(shop, other_shop, make_customer):
    shop.time_zone, other_shop.time_zone = "America/New_York", "Europe/Paris"
    shop.save()
    other_shop.save()
    for one, zone in ((shop, NEW_YORK), (other_shop, PARIS)):
        customer = make_customer(one, source="whatsapp", created_at=at(DAY, 23, 30, zone=zone))
        inbound(customer, at(DAY, 23, 30, zone=zone), channel="whatsapp")
        Order.objects.create(
            shop=one,
            customer=customer,
            reference="A1",
            amount=Decimal("40"),
            placed_at=at(DAY, 23, 30, zone=zone),
        )
        stats_rebuild(one, DAY, DAY + timedelta(days=1))

    for one in (shop, other_shop):
        stats, next_day = row(one), row(one, DAY + timedelta(days=1))
        assert stats.messages_in == {"whatsapp": 1}
        assert stats.new_customers == {"whatsapp": 1}
        assert stats.orders == {"prospect": [1, "40.00"]}
        assert (next_day.messages_in, next_day.new_customers, next_day.orders) == ({}, {}, {})


def test_the_day_clocks_go_back_has_25_hours_and_a_wait_across_it_counts_them(paris, make_customer, person):
    change = date(2026, 10, 25)
    early, late = make_customer(paris), make_customer(paris)
    inbound(early, at(change, 0, 30))  # before the change
    inbound(early, at(change, 23, 30))  # 24 hours of clock later, still the same day
    inbound(late, at(change + timedelta(days=1), 0, 10))
    inbound(late, at(change - timedelta(days=1), 23))
    by_person(late, at(change, 23), person)

    stats_rebuild(paris, change - timedelta(days=1), change + timedelta(days=1))

    assert row(paris, change).messages_in == {"sms": 2}
    assert row(paris, change + timedelta(days=1)).messages_in == {"sms": 1}
    assert row(paris, change - timedelta(days=1)).messages_in == {"sms": 1}
    assert row(paris, change).waits_human == [25 * 3600.0]  # stored on the day it ended


def test_a_wait_counts_opening_hours_only_when_the_shop_gave_them(paris, make_customer, person):
    ten_to_seven = [["10:00", "19:00"]]
    weekly = {str(day): ten_to_seven for day in (1, 2, 3, 4, 5)}  # Tuesday to Saturday
    ShopProfile.objects.create(shop=paris, weekly_hours={**weekly, "0": [], "6": []})
    saturday, tuesday = date(2026, 6, 13), date(2026, 6, 16)
    customer = make_customer(paris)
    inbound(customer, at(saturday, 18, 50))
    by_person(customer, at(tuesday, 10, 10), person)

    stats_rebuild(paris, saturday, tuesday)

    assert row(paris, tuesday).waits_human == [1200.0]
    assert row(paris, saturday).waits_human == []


def test_without_hours_a_wait_is_elapsed_time(paris, make_customer, person):
    saturday, tuesday = date(2026, 6, 13), date(2026, 6, 16)
    customer = make_customer(paris)
    inbound(customer, at(saturday, 18, 50))
    by_person(customer, at(tuesday, 10, 10), person)

    stats_rebuild(paris, tuesday, tuesday)  # the wait began before the days rebuilt: still measured

    assert row(paris, tuesday).waits_human == [(2 * 24 + 15) * 3600.0 + 20 * 60]


def test_a_shop_with_no_data_gets_rows_of_zeros(paris):
    assert stats_rebuild(paris, DAY, DAY + timedelta(days=2)) == 3

    stats = row(paris)
    assert (stats.messages_in, stats.messages_out, stats.waits_auto, stats.orders) == ({}, {}, [], {})
    assert (stats.conversations, stats.inbound_escalated, stats.holds_made, stats.segments) == (0, 0, 0, None)


def test_another_shops_messages_are_never_counted(paris, other_shop, make_customer):
    mine, theirs = make_customer(paris), make_customer(other_shop)
    inbound(mine, at(DAY, 10))
    question = inbound(theirs, at(DAY, 10))
    automatic(theirs, at(DAY, 10, 0, 1), "answer", question)
    Order.objects.create(shop=other_shop, customer=theirs, reference="X", amount=9, placed_at=at(DAY, 12))

    stats_rebuild(paris, DAY, DAY)

    stats = row(paris)
    assert (stats.messages_in, stats.messages_out, stats.inbound_answered_auto) == ({"sms": 1}, {}, 0)
    assert (stats.orders, stats.conversations, stats.waits_auto) == ({}, 1, [])
    assert not DailyStats.objects.filter(shop=other_shop).exists()


def test_a_rebuild_run_twice_writes_the_same_rows(paris, make_customer, person):
    customer = make_customer(paris)
    inbound(customer, at(DAY, 10))
    by_person(customer, at(DAY, 10, 5), person)
    stats_rebuild(paris, DAY - timedelta(days=1), DAY)
    first = list(DailyStats.objects.filter(shop=paris).order_by("day").values())

    stats_rebuild(paris, DAY - timedelta(days=1), DAY)

    again = list(DailyStats.objects.filter(shop=paris).order_by("day").values())
    strip = [{k: v for k, v in r.items() if k not in ("computed_at",)} for r in first]
    assert [{k: v for k, v in r.items() if k not in ("computed_at",)} for r in again] == strip
    assert len(again) == 2 and again[1]["waits_human"] == [300.0]


def test_returning_customers_conversions_orders_and_new_customers(paris, make_customer):
    regular = make_customer(paris, source="sms", created_at=at(DAY - timedelta(days=60), 9))
    newcomer = make_customer(paris, source="whatsapp", created_at=at(DAY, 9))
    browser = make_customer(paris, source="", created_at=at(DAY, 9))
    inbound(regular, at(DAY - timedelta(days=40), 10))  # an earlier day, long before
    inbound(regular, at(DAY, 10))
    inbound(newcomer, at(DAY, 10))
    inbound(browser, at(DAY, 10))
    Customer.objects.filter(pk=newcomer.pk).update(segment="vip")
    Order.objects.create(
        shop=paris,
        customer=newcomer,
        reference="N1",
        amount=Decimal("120.50"),
        placed_at=at(DAY + timedelta(days=2), 15),
    )
    Order.objects.create(
        shop=paris,
        customer=browser,
        reference="B1",
        amount=Decimal("30"),
        placed_at=at(DAY + timedelta(days=9), 15),
    )

    stats_rebuild(paris, DAY, DAY + timedelta(days=2))

    stats = row(paris)
    assert stats.new_customers == {"unknown": 1, "whatsapp": 1}
    assert (stats.conversations, stats.returning_customers, stats.conversions) == (3, 1, 1)
    assert row(paris, DAY + timedelta(days=2)).orders == {"vip": [1, "120.50"]}


def test_holds_made_converted_and_expired(paris, make_customer):
    customer = make_customer(paris)
    product = Product.objects.create(shop=paris, name="Robe")
    variant = Variant.objects.create(shop=paris, product=product, sku="R-38", size="38", price=80, stock=5)
    states = ["active", "converted", "expired", "released"]
    for state in states:
        Hold.objects.create(
            shop=paris, variant=variant, customer=customer, state=state, expires_at=at(DAY, 20)
        )
    Hold.objects.filter(shop=paris).update(created_at=at(DAY - timedelta(days=1), 10), updated_at=at(DAY, 12))
    Hold.objects.filter(state="active").update(created_at=at(DAY, 10))

    stats_rebuild(paris, DAY - timedelta(days=1), DAY)

    assert (row(paris).holds_made, row(paris).holds_converted, row(paris).holds_expired) == (1, 1, 1)
    assert row(paris, DAY - timedelta(days=1)).holds_made == 3


def test_the_segment_snapshot_is_taken_for_today_only_and_kept_afterwards(paris, make_customer):
    make_customer(paris, segment="vip")
    make_customer(paris)
    today = timezone.now().astimezone(PARIS).date()

    stats_rebuild(paris, today - timedelta(days=1), today)

    assert row(paris, today).segments == {"prospect": 1, "vip": 1}
    assert row(paris, today - timedelta(days=1)).segments is None
    DailyStats.objects.filter(shop=paris, day=today).update(day=today - timedelta(days=3))
    stats_rebuild(paris, today - timedelta(days=3), today - timedelta(days=3))
    assert row(paris, today - timedelta(days=3)).segments == {"prospect": 1, "vip": 1}


def test_waits_beyond_the_cap_keep_an_even_sample_with_both_ends():
    waits = [float(n) for n in range(2001)]

    kept = sample(list(reversed(waits)))

    assert len(kept) == MAX_WAITS and kept == sorted(kept)
    assert (kept[0], kept[-1]) == (0.0, 2000.0)
    assert abs(kept[MAX_WAITS // 2] - 1000.0) <= 2000 / MAX_WAITS  # the median within a step
    assert sample(list(reversed(waits))) == kept
    assert sample([3.0, 1.0]) == [1.0, 3.0]


def test_first_id_since_bisects_the_ids_by_recording_time(paris, make_customer):
    customer = make_customer(paris)
    rows = [inbound(customer, at(DAY, 10)) for _ in range(7)]
    now = timezone.now()
    for n, one in enumerate(rows):
        Interaction.objects.filter(pk=one.pk).update(created_at=now - timedelta(days=7 - n))

    assert first_id_since(Interaction, now - timedelta(days=3, hours=12)) == rows[4].pk
    assert first_id_since(Interaction, now - timedelta(days=30)) <= rows[0].pk
    assert first_id_since(Interaction, now + timedelta(days=1)) > rows[-1].pk


def test_refresh_counts_today_for_the_shops_that_talked_and_only_new_activity_after(
    paris, other_shop, make_customer, person
):
    now = timezone.now()
    today = now.astimezone(PARIS).date()
    customer = make_customer(paris)
    inbound(customer, now - timedelta(minutes=1))

    # The first run knows no last ids: the shop's open conversion days are counted too.
    assert stats_refresh(now) == aggregate.CONVERSION_DAYS + 2

    assert row(paris, today).messages_in == {"sms": 1}
    assert not DailyStats.objects.filter(shop=other_shop).exists()
    by_person(customer, now, person)
    assert stats_refresh(now + timedelta(minutes=5)) == aggregate.REFRESH_DAYS + 1  # today and 2 days back
    assert row(paris, today).messages_out == {"sms": 1}
    assert stats_refresh(now + timedelta(minutes=10)) == 0  # nothing new: nothing read again


def test_refresh_reopens_the_conversion_days_of_a_shop_with_a_new_order(paris, make_customer):
    now = timezone.now()
    today = now.astimezone(PARIS).date()
    customer = make_customer(paris)
    inbound(customer, now - timedelta(days=5))
    stats_refresh(now)
    assert row(paris, today - timedelta(days=5)).conversations == 1
    assert row(paris, today - timedelta(days=5)).conversions == 0

    Order.objects.create(shop=paris, customer=customer, reference="C1", amount=50, placed_at=now)
    stats_refresh(now + timedelta(minutes=5))

    assert row(paris, today - timedelta(days=5)).conversions == 1


def test_the_command_rebuilds_a_shop_from_a_day_and_says_so(paris, other_shop, make_customer, monkeypatch):
    inbound(make_customer(paris), at(DAY, 10))
    monkeypatch.setattr(aggregate.timezone, "now", lambda: at(DAY + timedelta(days=2), 12))
    out = StringIO()

    call_command("rebuild_stats", "--shop", paris.slug, "--since", "2026-06-09", stdout=out)

    assert f"{paris.slug}: 4 days rebuilt, 2026-06-09 to 2026-06-12" in out.getvalue()
    assert row(paris).messages_in == {"sms": 1}
    assert DailyStats.objects.filter(shop=paris).count() == 4
    assert not DailyStats.objects.filter(shop=other_shop).exists()


def test_the_command_starts_at_the_first_message_and_covers_every_shop(
    paris, other_shop, make_customer, monkeypatch
):
    inbound(make_customer(paris), at(DAY, 10))
    monkeypatch.setattr(aggregate.timezone, "now", lambda: at(DAY + timedelta(days=1), 12))
    out = StringIO()

    call_command("rebuild_stats", stdout=out)

    assert f"{paris.slug}: 2 days rebuilt, 2026-06-10 to 2026-06-11" in out.getvalue()
    assert f"{other_shop.slug}: nothing to rebuild" in out.getvalue()


def test_the_command_refuses_an_unknown_shop_and_a_bad_date(paris):
    with pytest.raises(CommandError, match="no shop"):
        call_command("rebuild_stats", "--shop", "nope")
    with pytest.raises(CommandError, match="not a date"):
        call_command("rebuild_stats", "--since", "10/06/2026")


# The marker each automatic reply leaves (webhooks.autoreply): what the analytics read.


@pytest.fixture
def talking(paris, make_customer):
    paris.opening_hours = "Mardi-samedi 10h-19h"
    paris.address = "12 rue des Martyrs, Paris"
    paris.save()
    return make_customer(paris)


def reply_kind_to(customer, text: str) -> str | None:
    message = Interaction.objects.create(
        customer=customer, channel="sms", direction="inbound", body=text, provider="twilio"
    )
    reply = autoreply.respond(
        customer=Customer.objects.select_related("shop").get(pk=customer.pk), turn=[message]
    )
    assert reply is not None and reply.in_reply_to_id == message.pk
    return Interaction.objects.get(pk=reply.pk).raw_payload.get("_reply_kind")


def test_an_answer_a_hand_over_and_the_opt_out_and_in_confirmations_are_marked(talking):
    assert reply_kind_to(talking, "Bonjour, quels sont vos horaires ?") == "answer"
    assert reply_kind_to(talking, "Je veux parler à un conseiller s'il vous plaît") == "handover"
    assert reply_kind_to(talking, "STOP") == "opt_out"
    assert reply_kind_to(talking, "START") == "opt_in"


def test_a_person_s_message_carries_no_reply_kind(talking, person):
    sent = autoreply.record_outbound(
        customer=talking, channel="sms", body="Bonjour", provider="twilio", author=person
    )
    assert "_reply_kind" not in Interaction.objects.get(pk=sent.pk).raw_payload
