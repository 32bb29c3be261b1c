"""The weekly summary e-mail: on Monday morning in the shop's time zone, last week's headline figures
against the week before, in the shop's language, to each owner who ticked it on the analytics page.

`send_weekly_summaries` runs every hour (beat: analytics.tasks.send_weekly_summaries). A subscription is
due once its shop's local time is past Monday SEND_HOUR and the week just ended has not been sent to it;
it is claimed with a conditional UPDATE before the mail goes, so that two runs at once send it once, and
given back when the mail server fails, so that the next hour tries again (a worker killed between the
claim and the send loses that week's: at most once). A worker that was down on Monday sends the summary
when it comes back, during the same week; never an older week's. A new subscriber's first summary is the
next Monday's (`subscribe`).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation

from analytics.figures import Figures, Period, shop_figures
from analytics.models import WeeklySummary
from analytics.presenting import headlines
from customers.access import shop_language
from customers.models import Membership
from shopinfo.selectors import shop_zone

logger = logging.getLogger(__name__)

SEND_HOUR = 8  # local time on Monday from which the summary goes


@dataclass(frozen=True)
class Summary:
    subject: str
    text: str
    html: str


def week_due(now: datetime, zone) -> date | None:
    """The Monday that starts the week to summarise, when the shop's local time `now` is past this
    week's Monday SEND_HOUR (always, from Tuesday on); None on Monday before SEND_HOUR."""
    local = timezone.localtime(now, zone)
    this_monday = local.date() - timedelta(days=local.weekday())
    if local.weekday() == 0 and local.hour < SEND_HOUR:
        return None
    return this_monday - timedelta(days=7)


def subscribe(shop, user, *, now: datetime) -> None:
    """The owner ticked the box: their first summary is the next week due, not the one due now (ticking
    on a Thursday sends nothing until Monday; ticking again after unticking does not resend a week)."""
    due = week_due(now, shop_zone(shop)) or _monday_of(now, shop) - timedelta(days=14)
    WeeklySummary.objects.get_or_create(shop=shop, user=user, defaults={"last_sent_for": due})


def unsubscribe(shop, user) -> None:
    WeeklySummary.objects.filter(shop=shop, user=user).delete()


def _monday_of(now: datetime, shop) -> date:
    local = timezone.localtime(now, shop_zone(shop)).date()
    return local - timedelta(days=local.weekday())


def send_weekly_summaries(now: datetime | None = None) -> int:
    """Send every due summary; how many e-mails went."""
    now = now or timezone.now()
    sent = 0
    subscriptions = WeeklySummary.objects.select_related("shop", "user").order_by("pk")
    for subscription in subscriptions.iterator(chunk_size=200):
        week = week_due(now, shop_zone(subscription.shop))
        if week is None or subscription.last_sent_for == week:
            continue
        sent += summary_send(subscription, week, now=now)
    return sent


def summary_send(subscription: WeeklySummary, week: date, *, now: datetime) -> int:
    """Send the week starting `week` to the subscriber if they are still an active owner of the shop with
    an address; 1 when it went."""
    user, shop = subscription.user, subscription.shop
    is_owner = Membership.objects.filter(user=user, shop=shop, role=Membership.Role.OWNER).exists()
    if not (is_owner and user.is_active and user.email):
        return 0  # a former owner, or no address: the subscription waits, unused
    try:
        summary = summary_build(shop, week, now=now)
    except Exception:  # a bug in one shop's summary must not stop the others': logged with its trace
        logger.exception("weekly summary %s of shop %s could not be built", subscription.pk, shop.pk)
        return 0
    if not _claim(subscription, week):
        return 0  # another run sent it
    message = EmailMultiAlternatives(summary.subject, summary.text, None, [user.email])
    message.attach_alternative(summary.html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:  # the mail server: given back, tried next hour
        _give_back(subscription)
        logger.warning("weekly summary %s of shop %s not sent (%s)", subscription.pk, shop.pk, exc)
        return 0
    except Exception:  # noqa: BLE001 - a bad address or header: given back, the others still go
        _give_back(subscription)
        logger.exception("weekly summary %s of shop %s not sent", subscription.pk, shop.pk)
        return 0
    return 1


def _give_back(subscription: WeeklySummary) -> None:
    WeeklySummary.objects.filter(pk=subscription.pk).update(last_sent_for=subscription.last_sent_for)


def _claim(subscription: WeeklySummary, week: date) -> bool:
    claimed = (
        WeeklySummary.objects.filter(pk=subscription.pk)
        .exclude(last_sent_for=week)
        .update(last_sent_for=week)
    )
    return claimed == 1


def summary_build(shop, week: date, *, now: datetime) -> Summary:
    """The e-mail of the week starting on Monday `week`, in the shop's language."""
    period = Period(week, week + timedelta(days=6), "custom")
    with translation.override(shop_language(shop)):
        current = shop_figures(shop, period, now=now)
        previous = current.previous or shop_figures(shop, period.previous(), now=now)
        context = {
            "shop": shop,
            "first": formats.date_format(period.first, "DATE_FORMAT"),
            "last": formats.date_format(period.last, "DATE_FORMAT"),
            # A figure with nothing to show either week (no one answered, no conversation) is left out.
            # ...and the conversion: the week just ended has not had its 7 days to convert yet.
            "headlines": [
                h
                for h in headlines(current, previous)
                if (h.value, h.previous) != ("—", "—") and h.key != "conversion"
            ],
            "changes": _changes(current, previous),
            "quiet": not current.inbound and not previous.inbound,
            "page_url": page_url(shop, period),
        }
        subject = " ".join(render_to_string("analytics/weekly_email_subject.txt", context).split())
        text = render_to_string("analytics/weekly_email_body.txt", context)
        html = render_to_string("analytics/weekly_email_body.html", context)
    return Summary(subject, text, html)


def page_url(shop, period: Period) -> str:
    """The analytics page of that week and shop (`shop=` makes it the current shop of an owner of several);
    empty without PUBLIC_BASE_URL: a mail cannot link to a host it does not know."""
    if not settings.PUBLIC_BASE_URL:
        return ""
    query = f"period=custom&start={period.first:%Y-%m-%d}&end={period.last:%Y-%m-%d}&shop={shop.pk}"
    return f"{settings.PUBLIC_BASE_URL}{reverse('analytics')}?{query}"


def _changes(current: Figures, previous: Figures) -> list[str]:
    """What moved, in words: the few changes worth a sentence (more or fewer messages, a larger or smaller
    share answered automatically, more or fewer new customers)."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from analytics.csv_export import share

    said = []
    if current.inbound != previous.inbound and previous.inbound:
        more = current.inbound > previous.inbound
        percent = round(abs(current.inbound - previous.inbound) * 100 / previous.inbound)
        if more:
            text = _("%(percent)s %% more messages than the week before.")
        else:
            text = _("%(percent)s %% fewer messages than the week before.")
        said.append(text % {"percent": percent})
    auto_now = share(current.inbound_answered_auto, current.inbound)
    auto_before = share(previous.inbound_answered_auto, previous.inbound)
    if auto_now is not None and auto_before is not None and round(auto_now) != round(auto_before):
        said.append(
            _("Answered automatically: %(now)s %% of the messages, against %(before)s %%.")
            % {"now": round(auto_now), "before": round(auto_before)}
        )
    new_now, new_before = sum(current.new_customers.values()), sum(previous.new_customers.values())
    if new_now != new_before:
        said.append(
            ngettext(
                "%(count)s new customer (%(before)s the week before).",
                "%(count)s new customers (%(before)s the week before).",
                new_now,
            )
            % {"count": new_now, "before": new_before}
        )
    return said
