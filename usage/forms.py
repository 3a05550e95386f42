"""The period (and currency) an analytics page shows: dates, or a preset of the last 7, 30 or 90 days."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.analytics import Window

PRESETS = (7, 30, 90)
MAX_DAYS = 366


class PeriodForm(forms.Form):
    start = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    days = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, choices=[(n, n) for n in PRESETS], widget=forms.HiddenInput
    )

    def clean(self):
        data = super().clean()
        today = timezone.now().date()
        if data.get("start") is None and data.get("end") is None:
            days = data.get("days") or 30
            data["start"], data["end"] = today - timedelta(days=days - 1), today
        data["start"] = data.get("start") or data["end"] - timedelta(days=29)
        data["end"] = data.get("end") or min(today, data["start"] + timedelta(days=29))
        if data["start"] > data["end"]:
            raise forms.ValidationError({"start": _("The start date must not be after the end date.")})
        if (data["end"] - data["start"]).days + 1 > MAX_DAYS:
            raise forms.ValidationError({"start": _("Choose at most %(days)s days.") % {"days": MAX_DAYS}})
        return data

    def window(self) -> Window:
        return Window(self.cleaned_data["start"], self.cleaned_data["end"])


class OperatorPeriodForm(PeriodForm):
    currency = forms.ChoiceField(choices=[])
    usd_rate = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=6,
        label="1 USD in the currency",
        help_text="Converts LLM costs (USD) for margins in another currency.",
    )

    def __init__(self, *args, currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(code, code) for code in currencies]
        self.fields["currency"].initial = currencies[0]
