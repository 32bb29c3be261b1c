"""The analytics page in a real Chromium, at a desktop's and a phone's width: reached from the navigation,
charts drawn (SVG, no script), a custom period picked, a bad one refused with its reason, the numbers
behind a chart opened, the owner's settings saved. No page scrolls sideways, no console error (the CSP
holds: no inline style or script).

Same harness as tests/test_browser.py; screenshots go to test-artifacts/analytics-*.png. The figures are
fixed (analytics.views.shop_figures replaced, as in tests/test_analytics_page.py): this test is about the
page, not the sums.
"""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

import analytics.figures
import analytics.views
from analytics.figures import Bucket, Durations, Figures, Period
from analytics.models import AnalyticsSettings, WeeklySummary
from customers.models import Membership
from customers.services import membership_add, shop_create
from tests.test_analytics_page import FakeFigures
from tests.test_browser import ARTIFACTS, browser, pytestmark  # noqa: F401 (fixtures and marks)
from tests.test_browser_api_keys import DESKTOP, PHONE, overflow, signed_in


def month_of_figures(period: Period) -> Figures:
    series = tuple(
        Bucket(
            period.first + timedelta(days=n),
            {"sms": 3 + n % 4, "whatsapp": 10 + (n * 7) % 9},
            {"sms": 2 + n % 3, "whatsapp": 9 + (n * 5) % 8},
        )
        for n in range(period.days)
    )
    return Figures(
        period=period,
        series=series,
        messages_in={"sms": sum(b.messages_in["sms"] for b in series), "whatsapp": 410},
        messages_out={"sms": 90, "whatsapp": 380},
        inbound_answered_auto=440,
        inbound_escalated=61,
        inbound_opted_out=4,
        first_answer_auto=Durations(440, 2.0, 3.5),
        first_answer_human=Durations(61, 1260.0, 5400.0),
        business_hours=True,
        new_customers={"sms": 12, "whatsapp": 31, "import": 4},
        returning_customers=88,
        segments_start={"prospect": 120, "active": 64, "vip": 18, "inactive": 40},
        segments_end={"prospect": 131, "active": 70, "vip": 21, "inactive": 38},
        orders={
            "prospect": (6, Decimal("389.00")),
            "active": (22, Decimal("2140.50")),
            "vip": (9, Decimal("1875.00")),
        },
        conversations=190,
        conversions=37,
        holds=(14, 9, 3),
        crm={"pushed": 212, "failed": 3, "pending": 1},
    )


@pytest.fixture
def boutique(django_user_model, monkeypatch):
    shop = shop_create(name="Maison Coccinelle", country="FR", language="en")
    owner = django_user_model.objects.create_user("lila", password="lila-pw-2026", is_staff=True)
    membership_add(shop=shop, user=owner, role=Membership.Role.OWNER)
    fake = FakeFigures()

    def shop_figures(shop, period, *, now):
        fake.asked.append((shop, period))
        # The previous period inside, as analytics.figures does: a quieter month.
        quieter = replace(
            month_of_figures(period.previous()), inbound_answered_auto=300, conversions=25, holds=(10, 5, 4)
        )
        return replace(month_of_figures(period), previous=quieter)

    monkeypatch.setattr(analytics.views, "shop_figures", shop_figures)
    monkeypatch.setattr(analytics.figures, "period_for", fake.period_for, raising=False)
    return shop, owner


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_the_analytics_page(browser, live_server, boutique, viewport):  # noqa: F811
    shop, owner = boutique
    width = viewport["width"]
    context, page, errors = signed_in(browser, live_server, viewport)
    page.get_by_role("link", name="Analytics").click()
    page.wait_for_url("**/dashboard/analytics/")
    assert page.locator("svg.chart").count() == 6 and page.locator("#headline-in dd.value").inner_text()
    assert overflow(page) <= 0
    assert_the_navigation_is_in_sight(page, width)
    assert_the_charts_read_at_this_width(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"analytics-{width}.png"), full_page=True)

    section = page.locator("#section-revenue")
    section.get_by_text("The numbers").click()
    assert "2,140.50" in section.locator("table").inner_text()
    assert overflow(page) <= 0

    page.select_option("#id_period", "custom")
    page.fill("#id_start", "2026-10-31")
    page.fill("#id_end", "2026-10-01")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("[role=alert]")
    assert "must not be after" in page.locator("[role=alert]").inner_text() and overflow(page) <= 0
    page.screenshot(path=str(ARTIFACTS / f"analytics-error-{width}.png"), full_page=True)

    page.fill("#id_start", "2026-10-01")
    page.fill("#id_end", "2026-10-07")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#section-messages svg")
    assert "Oct. 1, 2026 to Oct. 7, 2026" in page.locator(".period-shown").inner_text()
    assert page.locator("#section-messages polyline").count() == 4 and overflow(page) <= 0
    page.screenshot(path=str(ARTIFACTS / f"analytics-custom-{width}.png"), full_page=True)

    page.get_by_label("Staff may see the analytics").check()
    page.get_by_label("Send me the weekly summary by e-mail").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=The analytics settings were saved.")
    assert AnalyticsSettings.objects.get(shop=shop).staff_can_view is True
    assert WeeklySummary.objects.filter(shop=shop, user=owner).exists()
    context.close()
    errors = [e for e in errors if "400 (Bad Request)" not in e]  # the refused period's own status
    assert errors == []


def assert_the_navigation_is_in_sight(page, width):
    # On a phone the bar used to scroll sideways with no hint, hiding Analytics, settings and sign-out.
    for control in (
        page.get_by_role("link", name="Analytics"),
        page.get_by_role("link", name="Shop settings"),
        page.get_by_role("button", name="Sign out"),
        page.locator("#language-select"),
    ):
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, control
    assert page.locator("header.topbar").evaluate("bar => bar.scrollWidth - bar.clientWidth") <= 0


def assert_the_charts_read_at_this_width(page):
    """As drawn by the browser: no two x labels of a chart overlap, no y label is cut at the left, and
    the sent lines are dashed."""
    boxes = page.evaluate(
        """[...document.querySelectorAll('svg.chart')].map(svg => {
            const ticks = [...svg.querySelectorAll('text.tick')];
            const box = t => t.getBBox();
            // The x axis' labels sit under the plot (y="210"); the y axis' are the others.
            const under = ticks.filter(t => t.getAttribute('y') === '210').map(box);
            return {x: under.map(b => [b.x, b.x + b.width]),
                    left: Math.min(...ticks.map(box).map(b => b.x))};
        })"""
    )
    for chart in boxes:
        assert chart["left"] >= 0
        spans = sorted(chart["x"])
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), spans
    dash = page.locator("#section-messages polyline.dashed").first.evaluate(
        "line => getComputedStyle(line).strokeDasharray"
    )
    assert dash not in ("", "none")
