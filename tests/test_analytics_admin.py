"""The analytics' rows in the admin: an owner reads their shop's daily rows (never another shop's, never
edits them), changes the staff setting, removes a weekly subscriber; staff see no daily rows."""

from datetime import date

import pytest

from analytics.models import AnalyticsSettings, DailyStats, WeeklySummary

pytestmark = pytest.mark.django_db

DAILY = "/admin/analytics/dailystats/"


@pytest.fixture
def rows(shop, other_shop):
    mine = DailyStats.objects.create(shop=shop, day=date(2026, 11, 2), messages_in={"sms": 7, "whatsapp": 5})
    theirs = DailyStats.objects.create(shop=other_shop, day=date(2026, 11, 2), messages_in={"sms": 99})
    return mine, theirs


def test_an_owner_reads_their_shops_rows_only_and_cannot_change_them(client, owner, rows):
    mine, theirs = rows
    client.force_login(owner)

    listing = client.get(DAILY)
    assert listing.status_code == 200
    assert [row.pk for row in listing.context["cl"].result_list] == [mine.pk]
    page = client.get(f"{DAILY}{mine.pk}/change/")
    assert page.status_code == 200 and "&quot;whatsapp&quot;: 5" in page.content.decode()
    assert client.get(f"{DAILY}{theirs.pk}/change/").status_code == 404  # not theirs
    assert client.post(f"{DAILY}{mine.pk}/change/", {"inbound_escalated": "3"}).status_code == 403
    assert client.get(f"{DAILY}add/").status_code == 403


def test_staff_see_no_daily_rows(client, staff, rows):
    client.force_login(staff)
    assert client.get(DAILY).status_code == 403


def test_an_owner_removes_a_weekly_subscriber_of_their_shop(client, owner, staff, shop, other_shop):
    mine = WeeklySummary.objects.create(shop=shop, user=owner)
    theirs = WeeklySummary.objects.create(shop=other_shop, user=staff)
    AnalyticsSettings.objects.create(shop=shop)
    client.force_login(owner)

    listing = client.get("/admin/analytics/weeklysummary/")
    assert [row.pk for row in listing.context["cl"].result_list] == [mine.pk]
    client.post(f"/admin/analytics/weeklysummary/{mine.pk}/delete/", {"post": "yes"})
    assert not WeeklySummary.objects.filter(pk=mine.pk).exists()
    assert WeeklySummary.objects.filter(pk=theirs.pk).exists()
    settings_row = AnalyticsSettings.objects.get(shop=shop)
    done = client.post(
        f"/admin/analytics/analyticssettings/{settings_row.pk}/change/", {"staff_can_view": "on"}
    )
    assert done.status_code == 302 and AnalyticsSettings.objects.get(shop=shop).staff_can_view
