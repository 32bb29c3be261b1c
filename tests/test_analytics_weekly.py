"""The weekly summary e-mail (analytics.weekly): due on Monday morning in each shop's own time zone, once a
week even when the task runs twice, last week's figures against the week before in the shop's language,
only to owners who ticked it, given back when the mail server fails; and the link it carries."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client

from analytics import weekly
from analytics.models import DailyStats, WeeklySummary
from analytics.tasks import send_weekly_summaries
from customers.models import Membership
from customers.services import membership_add

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
# Monday 30 November 2026, 07:30 UTC: 08:30 in Paris (due), 02:30 in New York (not yet).
MONDAY_MORNING = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)
LAST_WEEK = date(2026, 11, 23)


@pytest.fixture
def subscribed(shop, owner):
    shop.language = "en"
    shop.save()
    return WeeklySummary.objects.create(shop=shop, user=owner)


def week_rows(shop):
    """Last week (23-29 November) and the week before (16-22), a few days each."""
    for day, received, answered, new in (
        (date(2026, 11, 16), {"sms": 4, "whatsapp": 6}, 5, {"sms": 1}),
        (date(2026, 11, 22), {"whatsapp": 10}, 5, {}),
        (date(2026, 11, 23), {"sms": 5, "whatsapp": 10}, 12, {"whatsapp": 2}),
        (date(2026, 11, 29), {"whatsapp": 15}, 12, {"sms": 1}),
        (date(2026, 11, 30), {"whatsapp": 99}, 99, {}),  # this week: not in the summary
    ):
        DailyStats.objects.create(
            shop=shop, day=day, messages_in=received, inbound_answered_auto=answered, new_customers=new
        )


def test_week_due_waits_for_monday_eight_in_the_shops_zone():
    paris, new_york = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")

    assert weekly.week_due(MONDAY_MORNING, paris) == LAST_WEEK
    assert weekly.week_due(MONDAY_MORNING, new_york) is None  # 02:30 there
    assert weekly.week_due(datetime(2026, 11, 30, 13, 0, tzinfo=UTC), new_york) == LAST_WEEK  # 08:00
    # Sunday evening in Paris is still last week's turn to wait: the week before is the one due.
    assert weekly.week_due(datetime(2026, 11, 29, 22, 0, tzinfo=UTC), paris) == date(2026, 11, 16)


def test_the_summary_tells_last_weeks_figures_against_the_week_before(subscribed, shop, settings):
    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    week_rows(shop)

    assert weekly.send_weekly_summaries(MONDAY_MORNING) == 1

    (sent,) = mail.outbox
    assert sent.to == ["owner@example.com"]
    assert sent.subject == "Boutique Coccinelle: your week from Nov. 23, 2026 to Nov. 29, 2026"
    assert "Messages received: 30 (week before: 20; +10 (+50 %))" in sent.body
    assert "Answered automatically: 80.0 % (week before: 50.0 %; +30.0 points)" in sent.body
    assert "50 % more messages than the week before." in sent.body
    assert "3 new customers (1 the week before)." in sent.body
    assert "followed by an order" not in sent.body  # the week has not had its 7 days to convert
    page = "https://crm.example.com/dashboard/analytics/?period=custom&start=2026-11-23&end=2026-11-29"
    assert f"{page}&shop={shop.pk}" in sent.body
    html, mimetype = sent.alternatives[0]
    assert mimetype == "text/html" and "<td" in html and "80.0 %" in html
    assert WeeklySummary.objects.get(pk=subscribed.pk).last_sent_for == LAST_WEEK


def test_once_a_week_even_when_the_task_runs_again(subscribed, shop):
    assert weekly.send_weekly_summaries(MONDAY_MORNING) == 1
    assert weekly.send_weekly_summaries(MONDAY_MORNING.replace(hour=9)) == 0
    assert weekly.send_weekly_summaries(datetime(2026, 12, 2, 9, 0, tzinfo=UTC)) == 0  # Wednesday
    assert len(mail.outbox) == 1
    # The next Monday is the next week's.
    assert weekly.send_weekly_summaries(datetime(2026, 12, 7, 7, 30, tzinfo=UTC)) == 1
    assert WeeklySummary.objects.get(pk=subscribed.pk).last_sent_for == date(2026, 11, 30)


def test_a_quiet_shop_still_gets_its_summary_with_zeros(subscribed, settings):
    settings.PUBLIC_BASE_URL = ""
    assert weekly.send_weekly_summaries(MONDAY_MORNING) == 1

    body = mail.outbox[0].body
    assert "No message came in either week." in body
    assert "Messages received: 0 (week before: 0; no change)" in body
    assert "First answer by a person" not in body  # nobody waited either week: nothing to compare
    assert "Analytics page of Coccinelle" in body  # no PUBLIC_BASE_URL: no link to a host it does not know


def test_each_shop_in_its_own_time_zone_and_language(subscribed, shop, other_shop, other_owner):
    other_shop.time_zone, other_shop.language = "America/New_York", "fr"
    other_shop.save()
    WeeklySummary.objects.create(shop=other_shop, user=other_owner)

    assert weekly.send_weekly_summaries(MONDAY_MORNING) == 1  # Paris only
    assert mail.outbox[0].to == ["owner@example.com"]
    assert weekly.send_weekly_summaries(datetime(2026, 11, 30, 13, 5, tzinfo=UTC)) == 1  # New York's 08:05

    french = mail.outbox[1]
    assert french.to == ["other-owner@example.com"]
    assert french.subject.startswith("Other Boutique : votre semaine du 23 novembre 2026")
    assert "Messages reçus : 0" in french.body


def test_only_owners_with_an_address_get_it(subscribed, shop, owner, staff):
    WeeklySummary.objects.create(shop=shop, user=staff)  # ticked while an owner, since made staff
    owner.email = ""
    owner.save()

    assert weekly.send_weekly_summaries(MONDAY_MORNING) == 0
    assert mail.outbox == []
    owner.email = "lila@example.com"
    owner.save()
    Membership.objects.filter(user=staff).update(role=Membership.Role.OWNER)

    assert weekly.send_weekly_summaries(MONDAY_MORNING) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["lila@example.com", "staff@example.com"]


def test_a_mail_server_failure_is_tried_again_the_next_hour(subscribed, monkeypatch, caplog):
    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("smtp down")

    with monkeypatch.context() as patched:
        patched.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
        assert weekly.send_weekly_summaries(MONDAY_MORNING) == 0
    assert "not sent (smtp down)" in caplog.text
    assert WeeklySummary.objects.get(pk=subscribed.pk).last_sent_for is None

    assert weekly.send_weekly_summaries(MONDAY_MORNING.replace(hour=8)) == 1
    assert len(mail.outbox) == 1


def test_beat_runs_the_task_hourly(settings):
    from coccinelle.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["analytics-weekly-summaries"]
    assert entry["schedule"] == 3600
    assert app.tasks[entry["task"]].run is send_weekly_summaries.run


def test_the_link_opens_that_shop_for_an_owner_of_several(shop, owner, other_shop):
    membership_add(shop=other_shop, user=owner, role=Membership.Role.OWNER)
    client = Client()
    client.force_login(owner)
    client.get("/dashboard/analytics/")  # the first shop (by name) is current

    landed = client.get(f"/dashboard/analytics/?period=7d&shop={other_shop.pk}")

    assert landed.status_code == 302 and landed["Location"] == "/dashboard/analytics/?period=7d"
    assert client.get(landed["Location"]).context["request"].shop == other_shop


def test_the_link_of_a_shop_one_does_not_belong_to_changes_nothing(shop, owner, other_shop):
    client = Client()
    client.force_login(owner)

    landed = client.get(f"/dashboard/analytics/?shop={other_shop.pk}")
    shown = client.get(landed["Location"])

    assert landed["Location"] == "/dashboard/analytics/"
    assert shown.status_code == 200 and shown.context["request"].shop == shop
    assert "Vous n&#x27;êtes pas membre de la boutique de ce lien" in shown.content.decode()  # French shop
    assert client.get("/dashboard/analytics/?shop=abc").status_code == 302


def test_a_new_subscriber_gets_the_next_monday_s_not_last_week_s_at_once(shop, owner):
    thursday = datetime(2026, 12, 3, 15, tzinfo=UTC)
    weekly.subscribe(shop, owner, now=thursday)

    assert weekly.send_weekly_summaries(thursday) == 0
    assert weekly.send_weekly_summaries(datetime(2026, 12, 7, 7, 30, tzinfo=UTC)) == 1  # Monday 08:30
    assert mail.outbox[0].subject.endswith("du 30 novembre 2026 au 6 décembre 2026")  # a French shop


def test_unticking_and_ticking_again_does_not_resend_the_week(subscribed, shop, owner):
    assert weekly.send_weekly_summaries(MONDAY_MORNING) == 1
    client = Client()
    client.force_login(owner)
    client.post("/dashboard/analytics/settings/", {})
    client.post("/dashboard/analytics/settings/", {"weekly_summary": "on"})

    assert weekly.send_weekly_summaries(MONDAY_MORNING.replace(hour=9)) == 0
    assert len(mail.outbox) == 1


def test_ticking_on_monday_before_eight_sends_that_morning(shop, owner):
    early = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 07:00 in Paris
    weekly.subscribe(shop, owner, now=early)

    assert weekly.send_weekly_summaries(MONDAY_MORNING) == 1


def test_a_summary_that_cannot_be_built_is_logged_and_the_others_go(
    subscribed, shop, other_shop, other_owner, monkeypatch, caplog
):
    WeeklySummary.objects.create(shop=other_shop, user=other_owner)
    build = weekly.summary_build

    def broken_for_the_first_shop(built_shop, week, *, now):
        if built_shop == shop:
            raise KeyError("a bug")
        return build(built_shop, week, now=now)

    monkeypatch.setattr(weekly, "summary_build", broken_for_the_first_shop)

    assert weekly.send_weekly_summaries(MONDAY_MORNING) == 1
    assert mail.outbox[0].to == ["other-owner@example.com"]
    assert "could not be built" in caplog.text and "KeyError" in caplog.text
    assert WeeklySummary.objects.get(pk=subscribed.pk).last_sent_for is None  # not claimed: not lost


def test_a_message_the_mail_library_refuses_is_given_back_and_the_others_go(
    subscribed, shop, other_shop, other_owner, monkeypatch, caplog
):
    WeeklySummary.objects.create(shop=other_shop, user=other_owner)
    send = EmailMultiAlternatives.send

    def refuse_the_first_shop(message, fail_silently=False):
        if message.to == ["owner@example.com"]:
            raise ValueError("Header values may not contain linefeed or carriage return characters")
        return send(message, fail_silently)

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse_the_first_shop)

    assert weekly.send_weekly_summaries(MONDAY_MORNING) == 1
    assert [m.to for m in mail.outbox] == [["other-owner@example.com"]]
    assert WeeklySummary.objects.get(pk=subscribed.pk).last_sent_for is None
    assert "ValueError" in caplog.text
