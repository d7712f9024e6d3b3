"""Instruments: batteries, subscales and items, immutable once answered (DESIGN §2, §3)."""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MENTOR = "mentor", _("Mentor")
    PROTEGE = "protege", _("Protégé")


class InstrumentLocked(ValidationError):
    """Raised when a change would alter an instrument that already has responses."""


class Instrument(models.Model):
    """A versioned survey definition. Once anyone has answered it, it never changes."""

    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    definition = models.JSONField(_("source definition"), default=dict, blank=True)
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
        values = range(self.scale_min, self.scale_max + 1)
        labels = list(self.scale_labels) + [""] * len(values)
        return [(value, labels[i] or str(value)) for i, value in enumerate(values)]


class Subscale(InstrumentPart):
    battery = models.ForeignKey(Battery, on_delete=models.CASCADE, related_name="subscales")
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
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


class Item(InstrumentPart):
    subscale = models.ForeignKey(Subscale, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("code"), max_length=24)
    text_mentor = models.TextField(_("mentor wording"))
    text_protege = models.TextField(_("protégé wording"))
    reverse_keyed = models.BooleanField(_("reverse-keyed"), default=False)
    allow_na = models.BooleanField(_("allows 'not applicable'"), default=False)
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

    def text_for(self, role: str) -> str:
        return self.text_mentor if role == Role.MENTOR else self.text_protege
