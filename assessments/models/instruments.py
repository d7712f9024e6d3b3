"""Instruments: batteries, subscales and items, immutable once answered (DESIGN §2, §3).

Wording in other languages than the instrument's first is kept beside each part in a
``translations`` JSON field, ``{"es": {"mentor": "…", "protege": "…"}, "fr": {…}}``,
rather than in a table of translations: a survey page reads a battery's items with their
wording in every language in the one query it already makes (no join, no row per text
and language on the participants' hottest path), nothing ever filters on a text, and the
texts share their part's lock (a published version changes only by gaining a language,
``services.instrument_load``). The first language stays in the plain fields, so code and
files that know one language read them as before. Keys per kind: ``languages.TEXTS``,
flattened (``labels``, ``strategy_title``).
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..languages import DEFAULT_LANGUAGES, language_for


class Role(models.TextChoices):
    MENTOR = "mentor", _("Mentor")
    PROTEGE = "protege", _("Protégé")


def default_languages() -> list[str]:
    return list(DEFAULT_LANGUAGES)


def translated(part: models.Model, field: str, language: str, fallback: str | list) -> str | list:
    """``part``'s ``field`` in ``language`` from its ``translations``, else ``fallback``
    (the first language's text)."""
    return (part.translations.get(language) or {}).get(field) or fallback


class InstrumentLocked(ValidationError):
    """Raised when a change would alter an instrument that already has responses."""


class Instrument(models.Model):
    """A versioned survey definition. Once anyone has answered it, it never changes."""

    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    definition = models.JSONField(_("source definition"), default=dict, blank=True)
    languages = models.JSONField(
        _("languages"), default=default_languages, help_text=_("The first is the default.")
    )
    translations = models.JSONField(_("translations"), default=dict, blank=True)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="instrument_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    def save(self, *args, **kwargs) -> None:
        self.ensure_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.ensure_editable()
        return super().delete(*args, **kwargs)

    @property
    def label(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else DEFAULT_LANGUAGES[0]

    def language_for(self, requested: str | None) -> str:
        """The language pages show for ``requested`` (``languages.language_for``)."""
        return language_for(requested, self.languages or DEFAULT_LANGUAGES)

    def title_in(self, language: str) -> str:
        return translated(self, "title", language, self.title)

    def has_responses(self) -> bool:
        # Responses are defined after instruments; look the model up by name.
        responses = apps.get_model("assessments", "Response")
        return self.pk is not None and responses.objects.filter(wave__instrument=self).exists()

    def ensure_editable(self) -> None:
        if self.has_responses():
            raise InstrumentLocked(
                _("%(label)s already has responses; load a new version instead of editing it.")
                % {"label": self.label}
            )


class InstrumentPart(models.Model):
    """Batteries, subscales and items share the instrument's lock."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.owning_instrument().ensure_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.owning_instrument().ensure_editable()
        return super().delete(*args, **kwargs)

    def owning_instrument(self) -> Instrument:
        raise NotImplementedError


class Battery(InstrumentPart):
    class Code(models.TextChoices):
        REL = "REL", _("Relational functions")
        CAR = "CAR", _("Career functions")
        PSY = "PSY", _("Psychosocial functions")
        STR = "STR", _("Strain screen")
        OVR = "OVR", _("Overall")

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="batteries")
    code = models.CharField(_("code"), max_length=3, choices=Code.choices)
    title = models.CharField(_("title"), max_length=200)
    intro_mentor = models.TextField(_("introduction for mentors"), blank=True)
    intro_protege = models.TextField(_("introduction for protégés"), blank=True)
    scale_min = models.SmallIntegerField(_("lowest point"), default=1)
    scale_max = models.SmallIntegerField(_("highest point"), default=7)
    scale_labels = models.JSONField(_("point labels"), default=list)
    translations = models.JSONField(_("translations"), default=dict, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["instrument", "order"]
        verbose_name_plural = "batteries"
        constraints = [
            models.UniqueConstraint(fields=["instrument", "code"], name="battery_code_unique"),
            models.CheckConstraint(
                condition=Q(scale_min__gte=0) & Q(scale_max__gt=models.F("scale_min")),
                name="battery_scale_sane",
                violation_error_message=_("A scale needs 0 ≤ lowest point < highest point."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def owning_instrument(self) -> Instrument:
        return self.instrument

    @property
    def points(self) -> list[tuple[int, str]]:
        return self.points_in("")

    def points_in(self, language: str) -> list[tuple[int, str]]:
        """Each point of the scale with its label in ``language`` (the value when unlabelled)."""
        values = range(self.scale_min, self.scale_max + 1)
        labels = list(translated(self, "labels", language, self.scale_labels)) + [""] * len(values)
        return [(value, labels[i] or str(value)) for i, value in enumerate(values)]

    def title_in(self, language: str) -> str:
        return translated(self, "title", language, self.title)

    def intro_in(self, role: str, language: str) -> str:
        """The introduction ``role``'s side reads, in ``language``."""
        field = "intro_mentor" if role == Role.MENTOR else "intro_protege"
        return translated(self, field, language, getattr(self, field))


class Subscale(InstrumentPart):
    battery = models.ForeignKey(Battery, on_delete=models.CASCADE, related_name="subscales")
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    strategy_title = models.CharField(_("growth strategy title"), max_length=200, blank=True)
    strategy_advice = models.TextField(_("growth strategy advice"), blank=True)
    translations = models.JSONField(_("translations"), default=dict, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["battery", "order"]
        constraints = [
            models.UniqueConstraint(fields=["battery", "code"], name="subscale_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def owning_instrument(self) -> Instrument:
        return self.battery.instrument

    def title_in(self, language: str) -> str:
        return translated(self, "title", language, self.title)

    def strategy_in(self, language: str) -> tuple[str, str] | None:
        """The growth strategy's title and advice in ``language``; ``None`` without one."""
        if not self.strategy_title:
            return None
        return (
            translated(self, "strategy_title", language, self.strategy_title),
            translated(self, "strategy_advice", language, self.strategy_advice),
        )


class Item(InstrumentPart):
    subscale = models.ForeignKey(Subscale, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("code"), max_length=24)
    text_mentor = models.TextField(_("mentor wording"))
    text_protege = models.TextField(_("protégé wording"))
    reverse_keyed = models.BooleanField(_("reverse-keyed"), default=False)
    allow_na = models.BooleanField(_("allows 'not applicable'"), default=False)
    translations = models.JSONField(_("translations"), default=dict, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["subscale__battery__order", "order"]
        constraints = [
            models.UniqueConstraint(fields=["subscale", "code"], name="item_code_unique"),
        ]

    def __str__(self) -> str:
        return self.code

    def owning_instrument(self) -> Instrument:
        return self.subscale.battery.instrument

    def text_for(self, role: str, language: str = "") -> str:
        """The wording ``role``'s side reads, in ``language`` (default: the first)."""
        side = "mentor" if role == Role.MENTOR else "protege"
        return translated(self, side, language, getattr(self, f"text_{side}"))
