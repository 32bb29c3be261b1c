"""Daily per-shop aggregates, and who sees them.

A `DailyStats` row holds one local day (the shop's time zone) of one shop: what happened that day,
counted once by `analytics.aggregate` from the raw tables. Periods are sums of rows; medians and
percentiles come from the day's response times kept as lists (bounded: see aggregate.MAX_WAITS).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Shop


class DailyStats(models.Model):
    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="daily_stats"
    )
    day = models.DateField(verbose_name=_("day"))  # local date in the shop's time zone
    # Messages by direction and channel ("sms", "whatsapp"; anything else counts under "other").
    messages_in = models.JSONField(
        verbose_name=_("messages received"), default=dict
    )  # {"sms": 12, "whatsapp": 30}
    messages_out = models.JSONField(verbose_name=_("messages sent"), default=dict)
    # Inbound messages of the day by what became of them: answered by an automatic reply that answered
    # (not a hand-over), handed to a person (escalated or a hand-over reply), opted out (STOP).
    inbound_answered_auto = models.PositiveIntegerField(verbose_name=_("answered automatically"), default=0)
    inbound_escalated = models.PositiveIntegerField(verbose_name=_("handed to a person"), default=0)
    inbound_opted_out = models.PositiveIntegerField(verbose_name=_("opted out"), default=0)
    # Seconds from a customer's first waiting message to the first answer, for the waits that ENDED
    # that day: automatic answers and people's answers (business seconds when the shop has hours).
    waits_auto = models.JSONField(verbose_name=_("automatic answers: waits kept"), default=list)
    waits_human = models.JSONField(verbose_name=_("answers by a person: waits kept"), default=list)
    # How many waits ended that day: the lists above keep at most aggregate.MAX_WAITS of them, so a busy
    # day's sample stands for more waits than a quiet day's (figures weigh them by these).
    waits_auto_count = models.PositiveIntegerField(verbose_name=_("automatic answers"), default=0)
    waits_human_count = models.PositiveIntegerField(verbose_name=_("answers by a person"), default=0)
    # New customers by source channel ({"sms": 3, "whatsapp": 5, "import": 1}); returning: customers who
    # wrote that day and had written on an earlier day.
    new_customers = models.JSONField(verbose_name=_("new customers"), default=dict)
    returning_customers = models.PositiveIntegerField(
        verbose_name=_("conversations with returning customers"), default=0
    )
    # Customers per segment at the end of the day; null for days rebuilt after the fact (unknown).
    segments = models.JSONField(verbose_name=_("segments"), null=True, blank=True)
    # Orders placed that day by the customer's segment: {"vip": [count, "amount"], ...}.
    orders = models.JSONField(verbose_name=_("orders by segment"), default=dict)
    # Customers who wrote that day, and those of them who ordered within CONVERSION_DAYS after.
    conversations = models.PositiveIntegerField(verbose_name=_("conversations"), default=0)
    conversions = models.PositiveIntegerField(verbose_name=_("conversions"), default=0)
    # Holds made, converted to an order and expired that day (all zero without a catalogue).
    holds_made = models.PositiveIntegerField(verbose_name=_("holds made"), default=0)
    holds_converted = models.PositiveIntegerField(verbose_name=_("holds converted"), default=0)
    holds_expired = models.PositiveIntegerField(verbose_name=_("holds expired"), default=0)
    computed_at = models.DateTimeField(verbose_name=_("computed at"), auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "day"], name="daily_stats_shop_day")]
        verbose_name = _("daily statistics")
        verbose_name_plural = _("daily statistics")

    def __str__(self):
        return f"{self.shop_id} {self.day}"


class AnalyticsSettings(models.Model):
    """Per shop: whether staff may see the analytics (read-only)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, primary_key=True, related_name="analytics")
    staff_can_view = models.BooleanField(verbose_name=_("staff may see the analytics"), default=False)

    class Meta:
        verbose_name = _("analytics settings")
        verbose_name_plural = _("analytics settings")

    def __str__(self):
        return str(self.shop_id)


class WeeklySummary(models.Model):
    """An owner who wants the Monday e-mail of a shop's figures; `last_sent_for` is the Monday of the last
    week sent, so that a task run twice sends once."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="weekly_summaries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="weekly_summaries"
    )
    last_sent_for = models.DateField(verbose_name=_("last week sent"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "user"], name="weekly_summary_once")]
        verbose_name = _("weekly summary subscriber")
        verbose_name_plural = _("weekly summary subscribers")

    def __str__(self):
        return f"{self.shop_id} {self.user_id}"
