"""Forms of the relationships app: the languages a program offers."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Program


def _languages_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("Languages offered"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Participants of this program may choose among these languages."),
    )


def _default_language_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Default language"),
        choices=settings.LANGUAGES,
        help_text=_(
            "What participants see until they choose, and the language of their emails "
            "when they have not chosen one the program offers."
        ),
    )


def _in_settings_order(chosen: list[str]) -> list[str]:
    return [code for code, _name in settings.LANGUAGES if code in set(chosen)]


class ProgramLanguagesForm(forms.Form):
    """Which languages a program offers (check boxes) and its default among them."""

    languages = _languages_field()
    default_language = _default_language_field()

    @classmethod
    def initial_of(cls, program: Program) -> dict:
        return {"languages": program.languages, "default_language": program.default_language}

    def clean_languages(self) -> list[str]:
        return _in_settings_order(self.cleaned_data["languages"])

    def clean(self) -> dict:
        data = super().clean()
        offered, default = data.get("languages"), data.get("default_language")
        if offered and default and default not in offered:
            raise ValidationError(
                {"default_language": _("The default language must be one the program offers.")}
            )
        return data


class ProgramAdminForm(forms.ModelForm):
    """The admin's program form, with the languages as check boxes; the model's
    ``clean_languages`` keeps the default inside the offer."""

    languages = _languages_field()
    default_language = _default_language_field()

    class Meta:
        model = Program
        fields = [
            "name", "slug", "description", "share_partner_scores",
            "keep_research_data_on_erasure", "placement_overrides", "languages",
            "default_language",
        ]  # fmt: skip

    def clean_languages(self) -> list[str]:
        return _in_settings_order(self.cleaned_data["languages"])
