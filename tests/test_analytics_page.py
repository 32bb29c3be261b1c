"""The analytics page /dashboard/analytics/ and its CSV: who may see it, the period picker (bad input is a
400 page, never a 500), the figures it is given shown beside the previous period's, the CSV equal to them,
and the owner's settings (staff may see; the weekly e-mail).

The figures themselves are analytics.figures' job (tested there): here `analytics.views.shop_figures` and
`analytics.figures.period_for` are replaced by fakes that return known values and record what was asked.
"""

import csv
import io
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import analytics.figures
import analytics.views
from analytics.figures import Bucket, Durations, Figures, Period
from analytics.models import AnalyticsSettings, WeeklySummary

pytestmark = pytest.mark.django_db

PAGE = "/dashboard/analytics/"
CSV = "/dashboard/analytics/export.csv"
TODAY = (
    timezone.localdate()
)  # Europe/Paris and the test's UTC agree except around midnight: not used for edges

CURRENT = Figures(
    period=Period(date(2026, 11, 1), date(2026, 11, 2)),
    series=(
        Bucket(date(2026, 11, 1), {"sms": 4, "whatsapp": 16}, {"sms": 3, "whatsapp": 15}),
        Bucket(date(2026, 11, 2), {"sms": 6, "whatsapp": 14}, {"sms": 5, "whatsapp": 13}),
    ),
    messages_in={"sms": 10, "whatsapp": 30},
    messages_out={"sms": 8, "whatsapp": 28},
    inbound_answered_auto=30,
    inbound_escalated=6,
    inbound_opted_out=1,
    first_answer_auto=Durations(30, 2.0, 4.0),
    first_answer_human=Durations(6, 900.0, 3600.0),
    business_hours=True,
    new_customers={"sms": 2, "whatsapp": 5},
    returning_customers=9,
    segments_start={"vip": 3, "active": 10},
    segments_end={"vip": 4, "active": 9},
    orders={"vip": (3, Decimal("420.00")), "=cmd": (1, Decimal("15.50"))},
    conversations=20,
    conversions=5,
    conversion_days=7,
    holds=(4, 2, 1),
    crm={"pushed": 50, "failed": 2, "pending": 3},
)
PREVIOUS = replace(
    CURRENT,
    messages_in={"sms": 5, "whatsapp": 15},
    messages_out={"sms": 4, "whatsapp": 14},
    inbound_answered_auto=10,
    first_answer_auto=Durations(10, 3.0, 6.0),
    orders={"vip": (2, Decimal("200.00"))},
    conversions=2,
    holds=(1, 0, 1),
)


class FakeFigures:
    """Stands for analytics.figures: the asked period gets CURRENT, its previous period PREVIOUS."""

    def __init__(self, current: Figures = CURRENT, previous: Figures = PREVIOUS):
        self.current, self.previous = current, previous
        self.asked: list[tuple] = []
        self.periods: list[tuple] = []

    def shop_figures(self, shop, period, *, now):
        """As analytics.figures.shop_figures: the period's figures, the previous period's inside."""
        self.asked.append((shop, period))
        before = replace(self.previous, period=period.previous())
        return replace(self.current, period=period, previous=before)

    def period_for(self, name, today, first=None, last=None):
        self.periods.append((name, today, first, last))
        if name == "custom":
            return Period(first, last)
        days = {"7d": 7, "30d": 30, "12m": 365}[name]
        return Period(today - timedelta(days=days - 1), today, name)


@pytest.fixture
def fake(monkeypatch, shop):
    shop.language = "en"
    shop.save(update_fields=["language"])
    fake = FakeFigures()
    monkeypatch.setattr(analytics.views, "shop_figures", fake.shop_figures)
    monkeypatch.setattr(analytics.figures, "period_for", fake.period_for, raising=False)
    return fake


def staff_may_view(shop, allowed=True):
    AnalyticsSettings.objects.update_or_create(shop=shop, defaults={"staff_can_view": allowed})


# --- who may see it --------------------------------------------------------------------------------


def test_the_owner_sees_the_page_with_the_settings(client, owner, shop, fake):
    client.force_login(owner)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert [s for s, _p in fake.asked] == [shop]  # one call: the previous period comes inside
    html = page.content.decode()
    assert 'aria-current="page"' in html and reverse("analytics-settings") in html


def test_staff_without_the_owners_leave_get_a_403_and_no_link(client, staff, shop, fake):
    client.force_login(staff)
    assert client.get(PAGE).status_code == 403
    assert client.get(CSV, {"section": "messages"}).status_code == 403
    staff_may_view(shop, allowed=False)
    assert client.get(PAGE).status_code == 403
    assert PAGE not in client.get(reverse("dashboard:customer-list")).content.decode()
    assert fake.asked == []


def test_staff_with_the_owners_leave_see_the_page_read_only(client, staff, shop, fake):
    staff_may_view(shop)
    client.force_login(staff)
    page = client.get(PAGE)
    assert page.status_code == 200 and page.context["settings_form"] is None
    assert reverse("analytics-settings") not in page.content.decode()
    assert PAGE in client.get(reverse("dashboard:customer-list")).content.decode()  # the navigation's link
    assert client.post(reverse("analytics-settings"), {"staff_can_view": "on"}).status_code == 403
    assert AnalyticsSettings.objects.get(shop=shop).staff_can_view is True


def test_another_shops_owner_sees_their_own_shops_figures_only(client, other_owner, other_shop, shop, fake):
    client.force_login(other_owner)
    assert client.get(PAGE).status_code == 200
    assert {s for s, _p in fake.asked} == {other_shop}


def test_anonymous_visitors_are_sent_to_sign_in(client, fake):
    for url in (PAGE, CSV + "?section=messages"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert fake.asked == []


# --- the period ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["7d", "30d", "12m"])
def test_a_named_period_is_compared_with_the_one_before(client, owner, fake, name):
    client.force_login(owner)
    page = client.get(PAGE, {"period": name})
    assert page.status_code == 200
    assert fake.periods[-1][:2] == (name, timezone.localdate(timezone.now(), ZoneInfo("Europe/Paris")))
    [(_shop, asked)] = fake.asked
    assert asked.last == fake.periods[-1][1]
    assert page.context["previous"].period == asked.previous()


def test_no_period_means_the_last_30_days(client, owner, fake):
    client.force_login(owner)
    client.get(PAGE)
    assert fake.periods[-1][0] == "30d"


def test_custom_dates_are_read_and_kept_in_the_csv_links(client, owner, fake):
    client.force_login(owner)
    page = client.get(PAGE, {"period": "custom", "start": "2026-10-01", "end": "2026-10-31"})
    assert page.status_code == 200
    assert fake.asked[0][1] == Period(date(2026, 10, 1), date(2026, 10, 31))
    assert (
        "section=revenue&amp;period=custom&amp;start=2026-10-01&amp;end=2026-10-31" in page.content.decode()
    )


@pytest.mark.parametrize(
    "params, message",
    [
        ({"period": "99d"}, "Select a valid choice"),
        ({"period": "custom", "start": "2026-10-01"}, "Give both dates of a custom period."),
        ({"period": "custom", "start": "2026-10-31", "end": "2026-10-01"}, "must not be after the last one"),
        ({"period": "custom", "start": "2026-13-45", "end": "2026-10-01"}, "Enter a valid date"),
        ({"start": "2025-01-01", "end": "2026-01-02"}, "at most 366 days long"),
        ({"period": "custom", "start": "2026-01-01", "end": str(TODAY + timedelta(days=2))}, "in the future"),
        ({"period": "custom", "start": "x' onmouseover=alert(1)", "end": "2026-10-01"}, "Enter a valid date"),
    ],
)
def test_a_bad_period_is_a_400_page_that_says_why(client, owner, fake, params, message):
    client.force_login(owner)
    page = client.get(PAGE, params)
    assert page.status_code == 400
    html = page.content.decode()
    assert message in html and 'role="alert"' in html and "x' onmouseover" not in html  # escaped
    assert "headline-in" not in html and fake.asked == []
    assert client.get(CSV, {"section": "messages", **params}).status_code == 400


# --- what the page shows -----------------------------------------------------------------------------


def test_each_headline_shows_the_figure_the_previous_one_and_the_change(client, owner, fake):
    client.force_login(owner)
    headlines = {h.key: h for h in client.get(PAGE).context["headlines"]}
    assert (headlines["in"].value, headlines["in"].previous, headlines["in"].change) == (
        "40",
        "20",
        "+20 (+100 %)",
    )
    assert (headlines["auto"].value, headlines["auto"].previous) == ("75.0 %", "50.0 %")
    assert headlines["auto"].change == "+25.0 points"
    assert (headlines["wait-auto"].value, headlines["wait-auto"].change) == ("2 s", "−1 s")
    assert headlines["wait-human"].value == "15 min"
    assert (headlines["revenue"].value, headlines["revenue"].previous) == ("435.50", "200.00")
    assert headlines["conversion"].value == "25.0 %" and headlines["conversion"].previous == "10.0 %"


def test_the_sections_show_charts_tables_and_notes(client, owner, fake):
    client.force_login(owner)
    html = client.get(PAGE).content.decode()
    for key in (
        "messages",
        "automation",
        "response",
        "customers",
        "segments",
        "revenue",
        "conversion",
        "holds",
        "crm",
    ):
        assert f'id="section-{key}"' in html and f"section={key}&amp;" in html
    assert html.count("<svg") == 6  # messages, automation, customers, segments, revenue, holds
    assert "opening hours only" in html  # the shop has structured hours
    assert "within 7 days" in html
    assert '<td class="num" data-label="Revenue">420.00</td>' in html and "=cmd" in html
    assert 'class="legend"' in html and "SMS in" in html and "WhatsApp out" in html
    chart = html[html.index('id="section-revenue"') :].split("</svg>")[0]
    assert chart.index(">VIP<") < chart.index(">=cmd<")  # the table's order: the model's, then others


def test_no_catalogue_and_no_crm_means_no_such_sections(client, owner, monkeypatch, fake):
    monkeypatch.setattr(fake, "current", replace(CURRENT, holds=None, crm=None, segments_start=None))
    client.force_login(owner)
    html = client.get(PAGE).content.decode()
    assert 'id="section-holds"' not in html and 'id="section-crm"' not in html
    assert 'id="section-segments"' not in html and 'id="section-messages"' in html


def test_a_period_without_data_says_so(client, owner, monkeypatch, fake):
    monkeypatch.setattr(fake, "current", Figures(period=CURRENT.period))
    monkeypatch.setattr(fake, "previous", Figures(period=CURRENT.period))
    client.force_login(owner)
    html = client.get(PAGE).content.decode()
    assert "No messages in this period" in html and "No order in this period" in html
    assert "Times count every hour" in html


# --- the CSV ---------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_csv_of_each_section_holds_the_figures_given(client, owner, fake):
    client.force_login(owner)
    messages = read_csv(client.get(CSV, {"section": "messages", "period": "7d"}))
    assert messages == [
        ["Date", "SMS in", "WhatsApp in", "SMS out", "WhatsApp out"],
        ["2026-11-01", "4", "16", "3", "15"],
        ["2026-11-02", "6", "14", "5", "13"],
    ]
    revenue = read_csv(client.get(CSV, {"section": "revenue", "period": "7d"}))
    assert revenue[1:] == [["VIP", "3", "420.00", "2", "200.00"], ["'=cmd", "1", "15.50", "0", "0"]]
    automation = read_csv(client.get(CSV, {"section": "automation"}))
    assert automation[1:] == [
        ["Inbound messages", "40", "", "20", ""],
        ["Answered automatically", "30", "75.0", "10", "50.0"],
        ["Escalated to a person", "6", "15.0", "6", "30.0"],
        ["Opted out", "1", "2.5", "1", "5.0"],
    ]
    response = read_csv(client.get(CSV, {"section": "response"}))
    assert response == [
        ["First answer", "Answers", "Median (seconds)", "90th percentile (seconds)"],
        ["Automatic", "30", "2.0", "4.0"],
        ["Automatic, previous period", "10", "3.0", "6.0"],
        ["By a person", "6", "900.0", "3600.0"],
        ["By a person, previous period", "6", "900.0", "3600.0"],
    ]
    segments = read_csv(client.get(CSV, {"section": "segments"}))
    assert segments[1:] == [["Active", "10", "9", "-1"], ["VIP", "3", "4", "1"]]  # a number is never quoted
    assert read_csv(client.get(CSV, {"section": "crm"}))[1:] == [
        ["Pushed", "50"],
        ["Failed", "2"],
        ["Pending", "3"],
    ]


def test_a_year_is_charted_and_exported_by_month(client, owner, fake):
    client.force_login(owner)
    page = client.get(PAGE, {"period": "12m"}).content.decode()
    assert '<h2 id="title-messages">Messages per month</h2>' in page
    assert read_csv(client.get(CSV, {"section": "messages", "period": "12m"}))[0][0] == "Month"
    assert read_csv(client.get(CSV, {"section": "messages", "period": "30d"}))[0][0] == "Date"


def test_the_csv_names_its_period_and_refuses_an_unknown_section(client, owner, fake):
    client.force_login(owner)
    response = client.get(
        CSV, {"section": "holds", "period": "custom", "start": "2026-10-01", "end": "2026-10-31"}
    )
    assert 'filename="analytics-holds-20261001-20261031.csv"' in response["Content-Disposition"]
    assert read_csv(response)[1:] == [
        ["Holds made", "4", "1"],
        ["Holds converted to an order", "2", "0"],
        ["Holds expired", "1", "1"],
    ]
    assert client.get(CSV, {"section": "nope"}).status_code == 400
    assert client.get(CSV).status_code == 400


# --- the owner's settings --------------------------------------------------------------------------


def test_the_owner_lets_staff_see_and_subscribes_then_undoes_both(client, owner, shop, fake):
    client.force_login(owner)
    done = client.post(reverse("analytics-settings"), {"staff_can_view": "on", "weekly_summary": "on"})
    assert done.status_code == 302 and done["Location"] == PAGE
    assert AnalyticsSettings.objects.get(shop=shop).staff_can_view is True
    assert WeeklySummary.objects.filter(shop=shop, user=owner).count() == 1
    form = client.get(PAGE).context["settings_form"]
    assert form.initial == {"staff_can_view": True, "weekly_summary": True}
    client.post(reverse("analytics-settings"), {"weekly_summary": "on"})  # twice: still one row
    assert WeeklySummary.objects.filter(shop=shop, user=owner).count() == 1
    client.post(reverse("analytics-settings"), {})
    assert AnalyticsSettings.objects.get(shop=shop).staff_can_view is False
    assert not WeeklySummary.objects.filter(shop=shop).exists()


def test_the_settings_need_a_post_with_a_csrf_token(owner, shop, fake):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    assert browser.post(reverse("analytics-settings"), {"staff_can_view": "on"}).status_code == 403
    assert browser.get(reverse("analytics-settings")).status_code == 405
    assert not AnalyticsSettings.objects.filter(shop=shop).exists()


def test_a_french_shop_reads_the_page_in_french_and_the_csv_keeps_plain_numbers(client, owner, shop, fake):
    shop.language = "fr"
    shop.save(update_fields=["language"])
    client.force_login(owner)
    html = client.get(PAGE).content.decode()
    assert "Statistiques" in html and "Période précédente" in html and "Répondus automatiquement" in html
    assert "75,0 %" in html  # French decimal comma on the page
    revenue = read_csv(client.get(CSV, {"section": "revenue"}))
    assert revenue[0][0] == "Segment" and revenue[1] == ["VIP", "3", "420.00", "2", "200.00"]


def test_a_period_that_period_for_refuses_is_a_400_not_a_500(client, owner, monkeypatch, fake):
    def refuse(name, today, first=None, last=None):
        raise ValueError("a rule the form does not know")

    monkeypatch.setattr(analytics.figures, "period_for", refuse, raising=False)
    client.force_login(owner)
    page = client.get(PAGE, {"period": "7d"})
    assert page.status_code == 400 and "This period cannot be read." in page.content.decode()
    assert client.get(CSV, {"section": "messages", "period": "7d"}).status_code == 400
    assert fake.asked == []


def test_saving_the_settings_comes_back_to_the_period_shown(client, owner, shop, fake):
    client.force_login(owner)
    page = client.get(PAGE, {"period": "custom", "start": "2026-10-01", "end": "2026-10-31"})
    back = 'name="back" value="period=custom&amp;start=2026-10-01&amp;end=2026-10-31"'
    assert back in page.content.decode()

    done = client.post(
        reverse("analytics-settings"),
        {"weekly_summary": "on", "back": "period=custom&start=2026-10-01&end=2026-10-31&next=//evil.example"},
    )

    assert done["Location"] == f"{PAGE}?period=custom&start=2026-10-01&end=2026-10-31"


@pytest.mark.parametrize(
    "query",
    [
        {"shop": "²"},  # a digit to str.isdigit(), not to int()
        {"shop": "9" * 40},
        {"period": "custom", "start": "0001-01-01", "end": "0001-01-03"},  # no previous period before it
    ],
)
def test_odd_parameters_get_an_answer_not_a_500(client, owner, fake, query):
    client.force_login(owner)
    page = client.get(PAGE, query)
    assert page.status_code in (302, 400)
    if "period" in query:
        assert "cannot be before" in page.content.decode()
        assert client.get(CSV, {**query, "section": "messages"}).status_code == 400
