"""The survey page form: one radio row per item of a battery, worded for the respondent."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments.models import Battery, Item

from .services import NOT_APPLICABLE


class BatteryForm(forms.Form):
    """Fields are named by item code; every field is optional until the final submit.
    Item wording and point labels are in ``language`` (one of the instrument's).

    Drawn by templates/assessments/_battery_items.html: a fieldset per item.
    """

    def __init__(
        self, *args, battery: Battery, items: list[Item], role: str, language: str, **kwargs
    ):
        super().__init__(*args, **kwargs)
        points = [
            (str(value), f"{value} · {label}") for value, label in battery.points_in(language)
        ]
        for item in items:
            choices = points + ([(NOT_APPLICABLE, _("Not applicable"))] if item.allow_na else [])
            self.fields[item.code] = forms.ChoiceField(
                label=item.text_for(role, language),
                choices=choices,
                widget=forms.RadioSelect(attrs={"data-autosave": "1"}),
                required=False,
            )

    def answered(self) -> dict[str, str]:
        """Only the items that carry a choice; empty ones are left as they were."""
        return {code: value for code, value in self.cleaned_data.items() if value}
