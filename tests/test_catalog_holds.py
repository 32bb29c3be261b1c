"""Holds (issue 15, item 5): what they do to the available stock, the last unit held once (also under a
race on PostgreSQL), extend / release / convert, expiry and the reminder before it."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from catalog.holds import (
    HoldRefused,
    hold_convert,
    hold_create,
    hold_extend,
    hold_release,
    holds_expire_due,
)
from catalog.models import CatalogSettings, Hold
from catalog.reminders import holds_remind_due
from catalog.selectors import shop_variants
from customers.models import ChannelAddress, Interaction
from tests.test_catalog import make_variant

pytestmark = pytest.mark.django_db


def available(variant):
    return shop_variants(shop=variant.shop).get(pk=variant.pk).available


def test_a_hold_takes_its_units_out_of_what_is_available(shop, make_customer):
    variant = make_variant(shop, stock=3)
    hold = hold_create(customer=make_customer(shop), variant=variant, quantity=2)
    assert hold.state == Hold.State.ACTIVE and hold.quantity == 2
    assert available(variant) == 1
    assert variant.stock == 3  # a hold does not touch the stock: a sale does


def test_a_hold_lasts_the_shops_hold_duration(shop, make_customer):
    variant = make_variant(shop)
    assert hold_create(customer=make_customer(shop), variant=variant).expires_at > timezone.now() + timedelta(
        hours=23
    )
    CatalogSettings.objects.create(shop=shop, hold_hours=2)
    hold = hold_create(customer=make_customer(shop), variant=variant)
    assert hold.expires_at < timezone.now() + timedelta(hours=2, minutes=1)


def test_the_last_unit_cannot_be_held_twice(shop, make_customer):
    variant = make_variant(shop, stock=1)
    hold_create(customer=make_customer(shop), variant=variant)
    with pytest.raises(HoldRefused) as refused:
        hold_create(customer=make_customer(shop), variant=variant)
    assert refused.value.code == "out_of_stock"
    assert available(variant) == 0 and Hold.objects.count() == 1


def test_holding_again_extends_the_customers_hold_instead_of_adding_one(shop, make_customer):
    variant = make_variant(shop, stock=1)
    customer = make_customer(shop)
    first = hold_create(customer=customer, variant=variant)
    Hold.objects.filter(pk=first.pk).update(expires_at=timezone.now() + timedelta(hours=1))
    again = hold_create(customer=customer, variant=variant)  # their own unit is not counted against them
    assert again.pk == first.pk and again.expires_at > timezone.now() + timedelta(hours=23)
    assert Hold.objects.count() == 1


def test_an_inactive_variant_cannot_be_held(shop, make_customer):
    variant = make_variant(shop, active=False)
    with pytest.raises(HoldRefused):
        hold_create(customer=make_customer(shop), variant=variant)


def test_extend_release_and_their_effect_on_available(shop, make_customer, owner):
    variant = make_variant(shop, stock=1)
    hold = hold_create(customer=make_customer(shop), variant=variant, actor=owner)
    before = hold.expires_at
    hold = hold_extend(hold=hold, hours=24)
    assert hold.expires_at == before + timedelta(hours=24)
    hold = hold_release(hold=hold, actor=owner)
    assert hold.state == Hold.State.RELEASED and available(variant) == 1
    with pytest.raises(HoldRefused) as refused:
        hold_extend(hold=hold, hours=24)
    assert refused.value.code == "not_active"


def test_convert_makes_an_order_and_takes_the_units_out_of_the_stock(shop, make_customer, owner):
    variant = make_variant(shop, stock=3)
    customer = make_customer(shop)
    hold = hold_convert(hold=hold_create(customer=customer, variant=variant, quantity=2), actor=owner)
    assert hold.state == Hold.State.CONVERTED
    assert hold.order.reference == f"HOLD-{hold.pk}" and hold.order.amount == Decimal("178.00")
    variant.refresh_from_db()
    assert variant.stock == 1 and available(variant) == 1
    customer.refresh_from_db()
    assert customer.orders_count == 1 and customer.total_spent == Decimal("178.00")  # figures follow
    with pytest.raises(HoldRefused):
        hold_convert(hold=hold, actor=owner)


def test_due_holds_expire_and_free_their_units(shop, make_customer):
    variant = make_variant(shop, stock=1)
    due = hold_create(customer=make_customer(shop), variant=variant)
    Hold.objects.filter(pk=due.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert holds_expire_due() == 1
    due.refresh_from_db()
    assert due.state == Hold.State.EXPIRED and available(variant) == 1
    assert holds_expire_due() == 0


# --- the reminder ------------------------------------------------------------------------------------


@pytest.fixture
def numbers(shop):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33900000001")


def _due_soon(shop, customer, sku="RB-38"):
    hold = hold_create(customer=customer, variant=make_variant(shop, sku))
    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() + timedelta(minutes=90))
    return hold


def _reminders(customer):
    return Interaction.objects.filter(customer=customer, direction="outbound")


def test_the_reminder_goes_out_once_by_sms_outside_the_whatsapp_window(shop, make_customer, numbers):
    customer = make_customer(shop, whatsapp_user_id="33612300000")  # never wrote on WhatsApp: window shut
    hold = _due_soon(shop, customer)
    assert holds_remind_due() == 1
    assert holds_remind_due() == 0  # once
    (message,) = _reminders(customer)
    assert message.channel == "sms" and message.is_automatic and message.author is None
    assert "Robe bleue" in message.body
    hold.refresh_from_db()
    assert hold.reminder_sent_at is not None


def test_the_reminder_goes_by_whatsapp_inside_the_window(shop, make_customer, numbers):
    customer = make_customer(shop, whatsapp_user_id="33612300001")
    Interaction.objects.create(customer=customer, channel="whatsapp", direction="inbound", body="Oui")
    _due_soon(shop, customer)
    assert holds_remind_due() == 1
    assert _reminders(customer).get().channel == "whatsapp"


def test_an_opted_out_customer_gets_no_reminder(shop, make_customer, numbers):
    customer = make_customer(shop, opted_out_at=timezone.now())
    _due_soon(shop, customer)
    assert holds_remind_due() == 0
    assert not _reminders(customer).exists()


def test_a_hold_far_from_expiry_is_not_reminded_yet(shop, make_customer, numbers):
    customer = make_customer(shop)
    hold_create(customer=customer, variant=make_variant(shop))
    assert holds_remind_due() == 0


# --- the race ----------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_customers_racing_for_the_last_unit_end_with_one_hold():
    from customers.models import Customer
    from customers.services import shop_create
    from tests.concurrency import run_concurrently

    shop = shop_create(name="Course", country="FR", language="fr")
    variant = make_variant(shop, stock=1)
    customers = iter([Customer.objects.create(shop=shop, phone=f"+3361230999{i}") for i in range(2)])
    taken = [next(customers), next(customers)]
    turn = iter(range(2))

    def hold():
        return hold_create(customer=taken[next(turn)], variant=variant)

    results, errors = run_concurrently(2, hold)
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], HoldRefused) and errors[0].code == "out_of_stock"
    assert Hold.objects.filter(variant=variant, state="active").count() == 1


# --- admin -------------------------------------------------------------------------------------------


def test_the_admin_lists_the_shops_holds_read_only_and_releases_them(
    client, shop, staff, other_shop, make_customer
):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
    from django.urls import reverse

    mine = hold_create(customer=make_customer(shop), variant=make_variant(shop))
    theirs = hold_create(customer=make_customer(other_shop), variant=make_variant(other_shop))
    client.force_login(staff)
    listed = client.get(reverse("admin:catalog_hold_changelist"))
    assert list(listed.context["cl"].result_list) == [mine]
    assert client.get(reverse("admin:catalog_hold_change", args=[theirs.pk])).status_code == 404
    page = client.get(reverse("admin:catalog_hold_change", args=[mine.pk]))
    assert page.status_code == 200 and "quantity" not in page.context["adminform"].form.fields
    assert client.get(reverse("admin:catalog_hold_add")).status_code == 403
    data = {"action": "release_selected", ACTION_CHECKBOX_NAME: [mine.pk]}
    assert client.post(reverse("admin:catalog_hold_changelist"), data).status_code == 302
    mine.refresh_from_db()
    assert mine.state == Hold.State.RELEASED


def test_a_merge_moves_the_merged_customers_holds_to_the_kept_one(shop, make_customer):
    from customers.services import customer_merge

    keep, other = make_customer(shop), make_customer(shop)
    both, theirs_only = make_variant(shop, stock=3), make_variant(shop, "JE-40", stock=1)
    kept_hold = hold_create(customer=keep, variant=both)
    hold_create(customer=other, variant=both)
    moved = hold_create(customer=other, variant=theirs_only)
    customer_merge(keep=keep, others=[other])
    kept_hold.refresh_from_db()
    moved.refresh_from_db()
    assert kept_hold.quantity == 2 and moved.customer_id == keep.pk
    assert available(both) == 1 and available(theirs_only) == 0  # nobody's units were freed


def test_the_beat_schedule_runs_the_holds_tasks(settings, shop, make_customer):
    from catalog import tasks

    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"catalog.tasks.expire_holds", "catalog.tasks.remind_holds"} <= entries
    hold = hold_create(customer=make_customer(shop), variant=make_variant(shop))
    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert tasks.expire_holds.delay().get() == 1
    assert tasks.remind_holds.delay().get() == 0


def test_a_customer_with_no_open_channel_is_not_reminded_nor_retried(shop, make_customer, numbers):
    customer = make_customer(shop, phone=None, whatsapp_user_id="33612300002")  # WhatsApp only, window shut
    hold = _due_soon(shop, customer)
    assert holds_remind_due() == 0
    hold.refresh_from_db()
    assert hold.reminder_sent_at is not None and not _reminders(customer).exists()


def test_an_owner_sets_the_hold_duration_in_the_admin(client, shop, owner, make_customer):
    from django.urls import reverse

    client.force_login(owner)
    added = client.post(reverse("admin:catalog_catalogsettings_add"), {"shop": shop.pk, "hold_hours": 48})
    assert added.status_code == 302, added.content.decode()[:500]
    hold = hold_create(customer=make_customer(shop), variant=make_variant(shop))
    assert hold.expires_at > timezone.now() + timedelta(hours=47)


def test_one_reminder_names_all_of_a_customers_holds_at_the_shops_time(shop, make_customer, numbers):
    shop.time_zone = "America/New_York"
    shop.save()
    customer = make_customer(shop)
    _due_soon(shop, customer)
    _due_soon(shop, customer, "JE-40")
    assert holds_remind_due() == 1
    (message,) = _reminders(customer)
    assert message.body.count("Robe bleue") == 2
    first = min(Hold.objects.filter(customer=customer).values_list("expires_at", flat=True))
    assert timezone.localtime(first, ZoneInfo("America/New_York")).strftime("%H:%M") in message.body
