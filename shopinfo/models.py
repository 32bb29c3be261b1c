"""What a shop tells its customers, as the owner entered it: weekly hours, dated exceptions, facts.

One `ShopProfile` row per shop (created on first edit: no row reads as "nothing given") and one
`HoursException` row per holiday or exceptional opening. `selectors.shop_hours` turns them into the pure
`shopinfo.hours.Hours` the reply engine and the analytics reason with.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Shop

# The facts an owner can give, in the order the settings page shows them.
FACT_KEYS = ("delivery", "payment", "services", "returns", "parking")
FACT_MAX_CHARS = 600


class ShopProfile(models.Model):
    shop = models.OneToOneField(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    # {"0": [["10:00", "19:00"]], ..., "6": []}: Monday is "0", a day with no range is closed.
    # {} means the owner gave no weekly hours (the engine then hands hours questions to a person).
    weekly_hours = models.JSONField(verbose_name=_("weekly hours"), default=dict, blank=True)
    signature = models.CharField(
        verbose_name=_("signature"),
        max_length=80,
        blank=True,
        help_text=_("Ends every automatic reply, e.g. “Lou, Maison Coccinelle”."),
    )
    map_url = models.URLField(verbose_name=_("map link"), blank=True, max_length=500)
    delivery = models.TextField(verbose_name=_("delivery"), blank=True)
    payment = models.TextField(verbose_name=_("payment"), blank=True)
    services = models.TextField(verbose_name=_("services"), blank=True)
    returns = models.TextField(verbose_name=_("returns and exchanges"), blank=True)
    parking = models.TextField(verbose_name=_("parking and access"), blank=True)
    # The owner's own versions of the facts in other languages: {"delivery": {"en": "..."}, ...}.
    translations = models.JSONField(verbose_name=_("translations"), default=dict, blank=True)
    updated_at = models.DateTimeField(verbose_name=_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("hours and facts")
        verbose_name_plural = _("hours and facts")

    def __str__(self):
        return str(self.shop)


class HoursException(models.Model):
    """A holiday, an exceptional closure or an exceptional opening, from `first_day` to `last_day`."""

    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="hours_exceptions"
    )
    first_day = models.DateField(verbose_name=_("from"))
    last_day = models.DateField(verbose_name=_("to"))
    # [["10:00", "17:00"]]; [] means closed on those days.
    ranges = models.JSONField(verbose_name=_("hours"), default=list, blank=True)
    label = models.CharField(verbose_name=_("label"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("hours exception")
        verbose_name_plural = _("hours exceptions")
        ordering = ["first_day"]
        indexes = [models.Index(fields=["shop", "last_day"], name="hours_exception_shop_last")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")), name="hours_exception_days_in_order"
            )
        ]

    def __str__(self):
        return self.label or f"{self.first_day}–{self.last_day}"
