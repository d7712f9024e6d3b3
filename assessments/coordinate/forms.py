"""Forms of the coordinator pages: dashboard filters and the management actions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

from assessments.models import AlertFollowUp, DyadWaveResult, Instrument, Role, Wave
from relationships.models import Dyad
from relationships.services import DyadRow

from .presenters import FLAG_LABELS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MAX_CSV_BYTES = 2 * 1024 * 1024
RESPONSE_CHOICES = {
    "both": _("Both submitted"),
    "mentor_missing": _("Mentor has not submitted"),
    "protege_missing": _("Protégé has not submitted"),
    "none": _("Neither submitted"),
}
SORT_LABELS = {
    "code": _("Research code"),
    "mentor": _("Mentor"),
    "protege": _("Protégé"),
    "state": _("State"),
    "position": _("Position"),
    "change": _("Change"),
}


def _any(label: str, choices: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    return [("", label), *choices]


class DyadFilterForm(forms.Form):
    """The dyad table's filters (GET). Invalid values fall back to "any"."""

    wave = forms.TypedChoiceField(label=_("Wave"), required=False, coerce=int, empty_value=None)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=_any(_("Any state"), DyadWaveResult.State.choices),
    )
    flag = forms.ChoiceField(
        label=_("Flag"), required=False, choices=_any(_("Any flag"), FLAG_LABELS.items())
    )
    transition = forms.ChoiceField(
        label=_("Movement"),
        required=False,
        choices=_any(_("Any movement"), DyadWaveResult.Transition.choices),
    )
    response = forms.ChoiceField(
        label=_("Responses"),
        required=False,
        choices=_any(_("Any response status"), RESPONSE_CHOICES.items()),
    )
    status = forms.ChoiceField(
        label=_("Dyads"),
        required=False,
        choices=[("active", _("Active")), ("ended", _("Ended")), ("all", _("All"))],
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            choice
            for key, label in SORT_LABELS.items()
            for choice in ((key, label), (f"-{key}", _("%s, descending") % label))
        ],
    )

    def __init__(self, *args, waves: list[Wave], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["wave"].choices = [(w.number, str(w)) for w in waves]

    def filters(self) -> dict[str, Any]:
        """The valid filters; a field with an invalid value counts as not given."""
        self.is_valid()
        return {name: self.cleaned_data.get(name) for name in self.fields}


class AlertFollowUpForm(forms.Form):
    dyad = forms.CharField(widget=forms.HiddenInput, max_length=12)
    wave = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.ChoiceField(widget=forms.HiddenInput, choices=AlertFollowUp.Reason.choices)
    note = forms.CharField(
        label=_("What was done"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with your name and the time; visible to the program's coordinators."),
    )
    next = forms.CharField(widget=forms.HiddenInput, required=False, max_length=500)


class AlertFilterForm(forms.Form):
    wave = forms.TypedChoiceField(label=_("Wave"), required=False, coerce=int, empty_value=None)
    reason = forms.ChoiceField(
        label=_("Reason"),
        required=False,
        choices=_any(_("Any reason"), AlertFollowUp.Reason.choices),
    )
    show = forms.ChoiceField(
        required=False, choices=[("open", _("Open")), ("followed", _("Followed up"))]
    )

    def __init__(self, *args, waves: list[Wave], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["wave"].choices = _any(_("All waves"), [(w.number, str(w)) for w in waves])

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        return {name: self.cleaned_data.get(name) for name in self.fields}


class RemindForm(forms.Form):
    wave = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    role = forms.ChoiceField(widget=forms.HiddenInput, choices=Role.choices)


class CohortForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Short name for addresses"),
        max_length=60,
        required=False,
        help_text=_("Letters, digits and hyphens; made from the name when left empty."),
    )
    started_on = forms.DateField(label=_("Start date"), widget=DATE)


class DyadForm(forms.Form):
    mentor_name = forms.CharField(label=_("Mentor's name"), max_length=200)
    mentor_email = forms.EmailField(label=_("Mentor's email"))
    protege_name = forms.CharField(label=_("Protégé's name"), max_length=200)
    protege_email = forms.EmailField(label=_("Protégé's email"))
    kind = forms.ChoiceField(label=_("Kind"), choices=Dyad.Kind.choices)
    supervisory = forms.BooleanField(
        label=_("The mentor is the protégé's line manager"), required=False
    )
    started_on = forms.DateField(label=_("Start date"), required=False, widget=DATE)

    def row(self) -> DyadRow:
        data = self.cleaned_data
        return DyadRow(
            line=1,
            mentor_email=data["mentor_email"].lower(),
            mentor_name=data["mentor_name"].strip(),
            protege_email=data["protege_email"].lower(),
            protege_name=data["protege_name"].strip(),
            kind=data["kind"],
            supervisory=data["supervisory"],
            started_on=data["started_on"],
        )


class DyadEndForm(forms.Form):
    ended_on = forms.DateField(
        label=_("End date"),
        widget=forms.DateInput(
            attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d"
        ),
    )


class WaveForm(forms.Form):
    label = forms.CharField(
        label=_("Label"),
        max_length=100,
        required=False,
        help_text=_("For example “Spring check-in”; “Wave N” when empty."),
    )
    opens_at = forms.DateTimeField(label=_("Opens"), widget=DATETIME)
    closes_at = forms.DateTimeField(label=_("Closes"), widget=DATETIME)
    instrument = forms.ModelChoiceField(
        label=_("Instrument version"), queryset=Instrument.objects.all(), empty_label=None
    )

    @staticmethod
    def initial_of(wave: Wave) -> dict[str, Any]:
        """The form's values for an existing wave."""
        return {
            "label": wave.label,
            "opens_at": wave.opens_at,
            "closes_at": wave.closes_at,
            "instrument": wave.instrument,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("A wave must close after it opens."))
        return data


class DyadImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8 with a header row: mentor_email, mentor_name, protege_email, protege_name; "
            "optionally kind (formal/informal), supervisory (yes/no), started_on (YYYY-MM-DD)."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB; split it."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from None


class CsvTextField(forms.CharField):
    """Text of a CSV file as sent, NUL characters included: the import refuses them with
    the line they are on, which a form-wide "null characters" error could not say."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]


class DyadImportConfirmForm(forms.Form):
    """The previewed CSV, sent back to import it; it is checked again before writing."""

    csv_text = CsvTextField(widget=forms.HiddenInput, max_length=MAX_CSV_BYTES, strip=False)

    def problem(self) -> str:
        """Why the text cannot be imported at all (too long, missing)."""
        return " ".join(self.errors.get("csv_text", [])) or str(_("The file is empty."))
