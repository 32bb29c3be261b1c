"""Per-customer figures kept as columns (customers/figures.py): they stay equal to what the orders and
messages say through every change, on SQLite and PostgreSQL, and the list reads them in a fixed number
of queries."""

import io
import re
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers import events
from customers.csv_io import import_customers_csv
from customers.figures import figures_refresh, figures_refresh_all
from customers.models import ChannelAddress, Customer, Interaction, Order
from customers.privacy import customer_erase
from customers.selectors import dashboard_stats, latest_interaction_id
from customers.services import customer_merge, customer_update, tags_get_or_create

pytestmark = pytest.mark.django_db(transaction=False)
LIST = "/dashboard/customers/"
DAY = timedelta(days=1)


@pytest.fixture
def customer(shop, make_customer):
    return make_customer(shop, first_name="Julie", last_name="Martin", phone="+33698765432")


@pytest.fixture
def as_owner(client, owner):
    client.force_login(owner)
    return client


def figures(customer):
    """The columns as stored, and the same figures recomputed from the orders and messages."""
    customer = Customer.objects.get(pk=customer.pk)
    stored = (
        customer.orders_count,
        customer.total_spent,
        customer.first_order_at,
        customer.last_order_at,
        customer.last_message_preview,
        customer.last_message_at,
        customer.last_inbound_id,
    )
    orders = list(Order.objects.filter(customer=customer))
    inbound = list(customer.interactions.filter(direction="inbound").order_by("-occurred_at", "-pk"))
    expected = (
        len(orders),
        sum((o.amount for o in orders), Decimal("0")),
        min((o.placed_at for o in orders), default=None),
        max((o.placed_at for o in orders), default=None),
        inbound[0].body[:200] if inbound else "",
        inbound[0].occurred_at if inbound else None,
        max((i.pk for i in inbound), default=None),
    )
    assert stored == expected
    return stored


def order(shop, customer, reference, amount, days_ago=0):
    return Order.objects.create(
        shop=shop, customer=customer, reference=reference, amount=Decimal(amount),
        placed_at=timezone.now() - days_ago * DAY,
    )  # fmt: skip


def message(customer, body, direction="inbound", days_ago=0, **fields):
    return Interaction.objects.create(
        customer=customer, channel="sms", direction=direction, body=body,
        occurred_at=timezone.now() - days_ago * DAY, **fields,
    )  # fmt: skip


def test_orders_added_edited_moved_and_deleted(shop, make_customer):
    julie, paul = make_customer(shop, first_name="Julie"), make_customer(shop, first_name="Paul")
    assert figures(julie)[:2] == (0, Decimal("0"))
    first = order(shop, julie, "A1", "30.50", days_ago=10)
    second = order(shop, julie, "A2", "20", days_ago=2)
    assert figures(julie)[:2] == (2, Decimal("50.50"))
    second.amount = Decimal("70")
    second.save()
    assert figures(julie)[1] == Decimal("100.50")
    second.customer = paul  # an order corrected to the right customer changes both
    second.save()
    assert figures(julie)[:4] == (1, Decimal("30.50"), first.placed_at, first.placed_at)
    assert figures(paul)[:2] == (1, Decimal("70"))
    first.delete()
    assert figures(julie)[:4] == (0, Decimal("0"), None, None)


def test_messages_recorded_set_the_latest_message_the_customer_wrote(shop, customer):
    early = message(customer, "Bonjour, la robe bleue en 38 ?", days_ago=3)
    message(customer, "Oui, nous l'avons.", direction="outbound", days_ago=1)  # the shop's reply: not shown
    assert figures(customer)[4:] == ("Bonjour, la robe bleue en 38 ?", early.occurred_at, early.pk)
    older = message(customer, "x" * 500, days_ago=30)  # recorded late, written long ago: not the latest
    assert figures(customer)[4] == "Bonjour, la robe bleue en 38 ?" and figures(customer)[6] == older.pk
    early.body = "Bonjour, la robe verte en 38 ?"  # the customer edited their message
    early.save(update_fields=["body"])
    assert figures(customer)[4] == "Bonjour, la robe verte en 38 ?"


def test_a_batch_recorded_together_is_counted_once_at_its_end(shop, customer, make_customer):
    other = make_customer(shop, first_name="Other")
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), events.collected():
        message(customer, "un")
        message(customer, "deux")
        message(other, "trois")
    updates = [q for q in queries if q["sql"].startswith('UPDATE "customers_customer"')]
    assert len(updates) == 1  # one UPDATE for the whole batch, not one per message
    assert figures(customer)[4] == "deux" and figures(other)[4] == "trois"


def test_inbound_pipeline_keeps_the_figures(shop):
    from webhooks.inbound import InboundMessage
    from webhooks.pipeline import inbound_receive

    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33159000000")
    outcome = inbound_receive(
        InboundMessage(
            provider="twilio", channel="sms", shop_address="+33159000000", provider_message_id="SMfig1",
            sender_phone="+33698700001", sender_whatsapp_id=None, sender_raw="+33698700001",
            text="Vous ouvrez dimanche ?",
        )
    )  # fmt: skip
    customer = Customer.objects.get(pk=outcome.customer_id)
    assert figures(customer)[4] == "Vous ouvrez dimanche ?"


def test_a_stale_copy_saved_later_does_not_undo_the_figures(shop, customer):
    stale = Customer.objects.get(pk=customer.pk)
    order(shop, customer, "S1", "42")
    message(customer, "Merci !")
    stale.city = "Lyon"
    stale.save()  # the pipeline or a form saving a record loaded before the order and the message
    customer_update(customer=stale, fields={"first_name": "Juliette"})
    assert figures(customer)[:2] == (1, Decimal("42")) and figures(customer)[4] == "Merci !"


def test_merge_gives_the_kept_customer_both_records_figures(shop, make_customer):
    keep, other = make_customer(shop, first_name="Julie"), make_customer(shop, first_name="Julie M")
    order(shop, keep, "M1", "10", days_ago=40)
    order(shop, other, "M2", "25", days_ago=1)
    newest = message(other, "C'est encore moi", days_ago=0)
    message(keep, "Bonjour", days_ago=5)
    kept = customer_merge(keep=keep, others=[other]).kept
    assert (kept.orders_count, kept.total_spent) == (2, Decimal("35"))  # the returned record is current
    assert figures(keep)[:2] == (2, Decimal("35")) and figures(keep)[4:6] == (newest.body, newest.occurred_at)


def test_erase_keeps_orders_for_the_accounts_and_others_figures(shop, make_customer):
    gone, stays = make_customer(shop, first_name="Gone"), make_customer(shop, first_name="Stays")
    order(shop, gone, "E1", "99")
    order(shop, stays, "E2", "15", days_ago=3)
    customer_erase(customer=gone)
    assert Order.objects.filter(reference="E1", customer=None).exists()
    assert figures(stays)[:2] == (1, Decimal("15"))
    assert dashboard_stats(shop)["total"] == 1


def test_import_creates_and_updates_customers_with_right_figures(shop, make_customer):
    known = make_customer(shop, first_name="Known", phone="+33698700002")
    order(shop, known, "I1", "12")
    message(known, "Salut")
    csv = "first_name,last_name,phone,email\nKnown,Client,+33698700002,\nNew,Client,+33698700003,\n"
    report = import_customers_csv(shop=shop, stream=io.StringIO(csv))
    assert (report.created, report.updated) == (1, 1)
    assert figures(known)[:2] == (1, Decimal("12")) and figures(known)[4] == "Salut"
    assert figures(Customer.objects.get(phone="+33698700003"))[:2] == (0, Decimal("0"))


def test_refresh_is_idempotent_and_repairs_stale_columns(shop, customer):
    order(shop, customer, "R1", "5")
    Customer.objects.filter(pk=customer.pk).update(orders_count=9, total_spent=Decimal("1"))
    figures_refresh([customer.pk])
    first = figures(customer)
    figures_refresh([customer.pk, customer.pk])
    assert figures(customer) == first and first[:2] == (1, Decimal("5"))
    Customer.objects.filter(pk=customer.pk).update(orders_count=0, last_message_preview="stale")
    figures_refresh_all(Customer.objects.filter(shop=shop))  # after a bulk load by SQL
    assert figures(customer) == first


def test_stat_cards_count_recent_orders_without_recent_messages(shop, make_customer):
    now = timezone.now()
    buyer = make_customer(shop, first_name="Buyer", last_contact_at=now - 90 * DAY)
    make_customer(shop, first_name="Idle", last_contact_at=now - 90 * DAY)
    order(shop, buyer, "C1", "10", days_ago=2)
    order(shop, buyer, "C2", "10", days_ago=3)  # two orders, one customer
    assert dashboard_stats(shop)["active_30_days"] == 1


def test_list_shows_figures_sorts_by_revenue_and_live_updates_start_at_the_latest(
    as_owner, shop, make_customer
):
    small, big = make_customer(shop, first_name="Small"), make_customer(shop, first_name="Big")
    order(shop, small, "L1", "5")
    order(shop, big, "L2", "500")
    message(big, "Je passe demain")
    reply = message(big, "Réponse zqx de la boutique", direction="outbound")
    response = as_owner.get(LIST, {"sort": "revenue"})
    rows = list(response.context["page"].object_list)
    assert [c.pk for c in rows] == [big.pk, small.pk]
    html = response.content.decode()
    assert "Je passe demain" in html and "zqx" not in html and "500,00" in html
    # Live updates look for inbound messages only: starting after the newest one misses nothing.
    assert response.context["latest_id"] == latest_interaction_id(shop) < reply.pk


def _list_queries(client, shop, make_customer, count):
    for n in range(count):
        customer = make_customer(shop, first_name=f"Q{n}", needs_attention=n % 2 == 0)
        customer.tags.add(*tags_get_or_create(shop=shop, names=[f"t{n % 3}"]))
        message(customer, f"hello {n}")
        order(shop, customer, f"Q{n}-{count}", "10")
    client.get(LIST)  # the first request stores the current shop in the session (a write)
    counts = {}
    for params in ({"per_page": 100}, {"per_page": 100, "sort": "revenue", "segment": "prospect"}):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, params)
        assert len(response.context["page"].object_list) == count
        counts[params.get("sort", "")] = len(queries)
    return counts


def test_the_list_runs_the_same_few_queries_for_5_or_40_customers(as_owner, shop, make_customer):
    few = _list_queries(as_owner, shop, make_customer, 5)
    Customer.objects.all().delete()
    many = _list_queries(as_owner, shop, make_customer, 40)
    assert few == many
    # Unfiltered: the stat cards' total is the paginator's count, so one query fewer than filtered.
    assert many[""] < many["revenue"] <= 11


def test_detail_page_figures_come_from_the_columns(as_owner, shop, customer):
    order(shop, customer, "D1", "30")
    order(shop, customer, "D2", "50")
    response = as_owner.get(reverse("dashboard:customer-detail", args=[customer.pk]))
    assert response.context["figures"]["revenue"] == Decimal("80")
    assert response.context["figures"]["average_basket"] == Decimal("40.00")


# --- keyset pages -----------------------------------------------------------------------------------


def row_ids(response):
    return [c.pk for c in response.context["page"].object_list]


def _walk(client, params):
    """Every row of the list, following the Next links from page 1; and each page's Previous link."""
    response = client.get(LIST, params)
    pages = [[c.pk for c in response.context["page"].object_list]]
    previous_links = []
    for _ in range(100):
        html = response.content.decode()
        link = re.search(r'rel="next" href="\?([^"]+)"', html)
        if not link:
            break
        response = client.get(f"{LIST}?{link.group(1).replace('&amp;', '&')}")
        pages.append([c.pk for c in response.context["page"].object_list])
        back = re.search(r'rel="prev" href="\?([^"]+)"', response.content.decode())
        previous_links.append(back.group(1).replace("&amp;", "&") if back else None)
    return pages, previous_links, response


@pytest.mark.parametrize("sort", ["", "name", "revenue"])
def test_deep_pages_continue_from_the_last_row_in_the_same_order(as_owner, shop, make_customer, sort):
    now = timezone.now()
    for n in range(80):
        # Ties on every sort key (same contact time, same name, same revenue) and customers never
        # contacted, whose NULL contact time sorts last.
        make_customer(
            shop,
            first_name=f"Ann{n % 3}",
            last_name="Zed" if n % 2 else "Abel",
            last_contact_at=None if n % 5 == 0 else now - (n % 4) * DAY,
            total_spent=Decimal(n % 3),
        )
    params = {"sort": sort} if sort else {}
    offsets = [
        [c.pk for c in as_owner.get(LIST, {**params, "page": n}).context["page"].object_list]
        for n in (1, 2, 3, 4)
    ]
    with mock.patch("customers.views.NUMBERED_PAGES", 1):  # page 2 onwards by position
        pages, previous_links, last = _walk(as_owner, params)
    assert pages == offsets and last.context["keyset"]
    assert not last.context["page"].has_next
    # Previous from page 3 (read by position) is page 2 again, and Next from there page 3.
    back = as_owner.get(f"{LIST}?{previous_links[1]}")
    assert [c.pk for c in back.context["page"].object_list] == offsets[1]
    assert back.context["count"] == 80


def test_a_cursor_that_is_not_ours_shows_the_first_page(as_owner, shop, make_customer):
    make_customer(shop, first_name="Only")
    response = as_owner.get(LIST, {"after": "not-a-cursor", "sort": "revenue"})
    assert response.status_code == 200 and not response.context["keyset"]
    assert len(response.context["page"].object_list) == 1


@pytest.mark.parametrize("asked", ["3", "2000", "last"])
def test_a_numbered_page_past_the_first_ones_shows_the_last_numbered_one(
    as_owner, shop, make_customer, asked
):
    # Page 2000 by number would make the database walk past 50,000 rows (OFFSET): the list shows the
    # last numbered page instead, and Next goes on by position from there, at a constant cost.
    for n in range(60):
        make_customer(shop, first_name=f"C{n:02d}", last_contact_at=timezone.now() - n * DAY)
    with mock.patch("customers.views.NUMBERED_PAGES", 2):
        second = as_owner.get(LIST, {"page": 2})
        response = as_owner.get(LIST, {"page": asked})
        link = re.search(r'rel="next" href="\?([^"]+)"', response.content.decode()).group(1)
        onwards = as_owner.get(f"{LIST}?{link.replace('&amp;', '&')}")
    assert response.status_code == 200 and response.context["page"].number == 2
    assert row_ids(response) == row_ids(second) and len(row_ids(second)) == 25
    assert onwards.context["keyset"] and len(row_ids(onwards)) == 10  # the third page, by position


def test_a_ranked_search_counts_its_matches_with_its_page(as_owner, shop, make_customer):
    # One statement reads a page of matches and their number (a window count): the same count and
    # rows as counting apart, on every page, and a page past the last shows the last.
    for n in range(30):
        make_customer(shop, first_name="Céline", last_name=f"X{n:02d}")
    make_customer(shop, first_name="Paul", last_name="Durand")

    first, second = as_owner.get(LIST, {"q": "celine"}), as_owner.get(LIST, {"q": "celine", "page": 2})
    past = as_owner.get(LIST, {"q": "celine", "page": 9})
    nobody = as_owner.get(LIST, {"q": "zzzz"})

    assert (first.context["count"], len(row_ids(first)), len(row_ids(second))) == (30, 25, 5)
    assert set(row_ids(first)).isdisjoint(row_ids(second))
    assert row_ids(past) == row_ids(second) and past.context["page"].number == 2
    assert nobody.context["count"] == 0 and row_ids(nobody) == []
    assert second.context["page"].paginator.num_pages == 2 and not second.context["page"].has_next()
    assert first.context["page"].has_next() and not first.context["keyset"]


def test_a_ranked_search_numbers_its_first_pages_only_and_offers_no_next_past_them(
    as_owner, shop, make_customer
):
    for n in range(60):
        make_customer(shop, first_name="Céline", last_name=f"Y{n:02d}")
    with mock.patch("customers.views.SEARCH_PAGES", 2):
        last, past = (
            as_owner.get(LIST, {"q": "celine", "page": 2}),
            as_owner.get(LIST, {"q": "celine", "page": 3}),
        )

    assert last.context["count"] == 60  # the real count, shown
    assert last.context["page"].paginator.num_pages == 2 and not last.context["page"].has_next()
    assert 'rel="next"' not in last.content.decode()
    assert row_ids(past) == row_ids(last)


@pytest.mark.parametrize("asked", ["0", "-3", "abc"])
def test_page_zero_or_negative_is_the_first_page_never_the_deepest(as_owner, shop, make_customer, asked):
    # Django's get_page takes 0 and negatives for the last page: an OFFSET past every row.
    for n in range(30):
        make_customer(shop, first_name=f"C{n:02d}", last_contact_at=timezone.now() - n * DAY)
    response = as_owner.get(LIST, {"page": asked})
    assert response.context["page"].number == 1
    assert row_ids(response) == row_ids(as_owner.get(LIST))
