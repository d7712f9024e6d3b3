"""Forms of the coordinator's email pages: wording, schedule and notices."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from delivery import wording
from delivery.models import DeliverySchedule, NotificationPreference
from delivery.services import SCHEDULE_FIELDS

MAX_DAYS = 366


class MessageTemplateForm(forms.Form):
    """A program's wording of one message: a subject and a plain-text body with named
    placeholders (``delivery.wording``), checked before anything is saved."""

    subject = forms.CharField(label=_("Subject"), max_length=wording.MAX_SUBJECT)
    body = forms.CharField(
        label=_("Message"),
        max_length=wording.MAX_BODY,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_(
            "Plain text. Leave a blank line between paragraphs; the email's formatted "
            "version is made from this text."
        ),
    )

    def clean_subject(self) -> str:
        subject = self.cleaned_data["subject"].strip()
        problems = wording.subject_problems(subject)
        if problems:
            raise ValidationError(problems)
        return subject

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].replace("\r\n", "\n").strip()
        problems = wording.body_problems(body)
        if problems:
            raise ValidationError(problems)
        return body


def days_list(text: str) -> list[int]:
    """``"7, 14"`` → ``[7, 14]`` (sorted, without repeats); raises ``ValidationError``."""
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    if not all(part.isascii() and part.isdigit() and int(part) <= MAX_DAYS for part in parts):
        raise ValidationError(
            _("Write whole numbers of days separated by commas, such as 7, 14."), code="days"
        )
    return sorted({int(part) for part in parts})


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class ScheduleForm(forms.Form):
    """The program's schedule (``DeliverySchedule``); off means nothing goes out on its
    own and coordinators send by hand."""

    enabled = forms.BooleanField(
        label=_("Send invitations and reminders on a schedule"), required=False
    )
    invite_on_open = forms.BooleanField(
        label=_("Invite everyone when a wave opens"),
        required=False,
        help_text=_("Also invites partners of dyads added while the wave is open."),
    )
    reminder_days_after = forms.CharField(
        label=_("Reminders, days after the invitation"),
        required=False,
        help_text=_("For example 7, 14. Leave empty for none."),
    )
    reminder_days_before_close = forms.CharField(
        label=_("Reminders, days before the wave closes"),
        required=False,
        help_text=_("For example 2. Leave empty for none."),
    )
    max_reminders = forms.IntegerField(
        label=_("At most this many reminders per person"), min_value=0, max_value=20
    )
    send_from_hour = forms.IntegerField(
        label=_("Send from (hour, 0–23)"), min_value=0, max_value=23
    )
    send_until_hour = forms.IntegerField(
        label=_("Send until (hour, 1–24)"), min_value=1, max_value=24
    )
    time_zone = forms.ChoiceField(label=_("Time zone of the sending hours"), choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()

    @classmethod
    def initial_of(cls, schedule: DeliverySchedule | None) -> dict[str, Any]:
        """The form's values for a stored schedule, or the defaults (switched off)."""
        shown = schedule or DeliverySchedule()
        values = {name: getattr(shown, name) for name in SCHEDULE_FIELDS}
        for name in ("reminder_days_after", "reminder_days_before_close"):
            values[name] = ", ".join(str(day) for day in values[name] or [])
        return {**values, "enabled": schedule is not None}

    def clean_reminder_days_after(self) -> list[int]:
        return days_list(self.cleaned_data["reminder_days_after"])

    def clean_reminder_days_before_close(self) -> list[int]:
        return days_list(self.cleaned_data["reminder_days_before_close"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        if data["send_from_hour"] >= data["send_until_hour"]:
            raise ValidationError(_("Sending hours must start before they end."))
        DeliverySchedule(**{name: data[name] for name in SCHEDULE_FIELDS}).clean()
        return data


class NotificationForm(forms.Form):
    """How one coordinator hears about the program's alerts."""

    alerts = forms.ChoiceField(
        label=_("Email me about this program's alerts"),
        choices=NotificationPreference.Alerts.choices,
        widget=forms.RadioSelect,
    )
