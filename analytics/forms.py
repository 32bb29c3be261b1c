"""The analytics page's two forms: the period picker (GET) and the owner's settings (POST)."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from analytics import figures
from analytics.figures import MAX_DAYS, PERIODS, Period

DEFAULT_PERIOD = "30d"
# analytics.figures.period_for refuses longer periods: said here in words first.
MAX_CUSTOM_DAYS = MAX_DAYS
# No shop has figures before this; it also keeps the previous period of a custom one a real date.
FIRST_DAY = date(2000, 1, 1)


class PeriodForm(forms.Form):
    """`?period=7d|30d|12m|custom&start=YYYY-MM-DD&end=YYYY-MM-DD`; no period means the last 30 days,
    dates alone mean a custom period."""

    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[
            ("7d", _("Last 7 days")),
            ("30d", _("Last 30 days")),
            ("12m", _("Last 12 months")),
            ("custom", _("Custom dates")),
        ],
    )
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data, *, today: date):
        data = data.copy()
        # The select shows the period in use: the default, or "custom" when only dates were given.
        if not data.get("period"):
            data["period"] = "custom" if data.get("start") or data.get("end") else DEFAULT_PERIOD
        super().__init__(data)
        self.today = today

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if cleaned.get("period") == "custom" and not self.errors:
            self._check_custom(start, end)
        if not self.errors:
            cleaned["chosen"] = self._period(cleaned["period"], start, end)
        return cleaned

    def _period(self, name: str, start: date | None, end: date | None) -> Period:
        try:
            if name in PERIODS:
                return figures.period_for(name, self.today)
            return figures.period_for("custom", self.today, start, end)
        except ValueError as exc:  # a rule of period_for's that the checks above do not know yet
            raise forms.ValidationError(_("This period cannot be read."), code="refused") from exc

    def _check_custom(self, start: date | None, end: date | None) -> None:
        if start is None or end is None:
            raise forms.ValidationError(_("Give both dates of a custom period."), code="incomplete")
        if start > end:
            raise forms.ValidationError(_("The first date must not be after the last one."), code="order")
        if end > self.today:
            raise forms.ValidationError(_("The last date cannot be in the future."), code="future")
        if start < FIRST_DAY:
            raise forms.ValidationError(
                _("The first date cannot be before %(day)s."),
                code="early",
                params={"day": formats.date_format(FIRST_DAY, "DATE_FORMAT")},
            )
        if (end - start) + timedelta(days=1) > timedelta(days=MAX_CUSTOM_DAYS):
            raise forms.ValidationError(
                _("A custom period can be at most %(days)s days long."),
                code="long",
                params={"days": MAX_CUSTOM_DAYS},
            )

    def chosen(self) -> Period:
        """The period asked for (call after is_valid())."""
        return self.cleaned_data["chosen"]

    def query(self) -> str:
        """The period as GET parameters, for the CSV links."""
        name = self.cleaned_data["period"]
        if name != "custom":
            return f"period={name}"
        start, end = self.cleaned_data["start"], self.cleaned_data["end"]
        return f"period=custom&start={start:%Y-%m-%d}&end={end:%Y-%m-%d}"


class AnalyticsSettingsForm(forms.Form):
    staff_can_view = forms.BooleanField(
        label=_("Staff may see the analytics"),
        required=False,
        help_text=_("They see this page without these settings."),
    )
    weekly_summary = forms.BooleanField(
        label=_("Send me the weekly summary by e-mail"),
        required=False,
        help_text=_("On Monday morning: last week's headline figures and what changed."),
    )
