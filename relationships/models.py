"""Programs, cohorts, people and the mentor–protégé pairs (dyads) they form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .codes import new_dyad_code, new_participant_code

if TYPE_CHECKING:
    from assessments.measurement.rules import Constants


def language_codes() -> list[str]:
    """The codes of the interface's languages (``settings.LANGUAGES``), in their order."""
    return [code for code, _name in settings.LANGUAGES]


NAME_IN_DYAD_HELP = _(
    "As this dyad's program names the person; its coordinators see this name, not the "
    "participant's own."
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, email: str) -> User:
        return self.get(email__iexact=email)


class User(AbstractUser):
    """A person who signs in. The email address is the login."""

    username = None
    email = models.EmailField(_("email address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.lower()
        super().save(*args, **kwargs)


class ProgramQuerySet(models.QuerySet):
    def for_coordinator(self, user, *, every_program: bool = False) -> ProgramQuerySet:
        """The programs ``user`` coordinates, or all of them when ``every_program``.

        The caller decides ``every_program`` from a named permission; staff status alone
        never widens the set (DESIGN §7).
        """
        if every_program:
            return self
        return self.filter(memberships__user=user)


class Program(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    description = models.TextField(_("description"), blank=True)
    share_partner_scores = models.BooleanField(
        _("share partner scores"),
        default=False,
        help_text=_("Partners see each other's subscale scores on their results pages."),
    )
    keep_research_data_on_erasure = models.BooleanField(
        _("keep research data on erasure"),
        default=True,
        help_text=_(
            "Participants consented to research use: erasing a person keeps their "
            "answers under the research code."
        ),
    )
    placement_overrides = models.JSONField(
        _("placement constants"),
        default=dict,
        blank=True,
        help_text=_('Overrides of the continuum-v1 constants, e.g. {"strain_cut": 2.5}.'),
    )
    # Which interface languages the program's participants may choose, and the one they
    # see (and their emails go out in) until they choose.
    languages = models.JSONField(
        _("languages offered"),
        default=language_codes,
        help_text=_("The languages participants of this program may choose."),
    )
    default_language = models.CharField(
        _("default language"),
        max_length=12,
        default="en",
        help_text=_("What participants see and receive until they choose a language."),
    )
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="CoordinatorMembership",
        related_name="coordinated_programs",
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from assessments.measurement.rules import Constants

        try:
            Constants.from_overrides(self.placement_overrides or {})
        except ValueError as error:
            raise ValidationError({"placement_overrides": str(error)}) from error
        self.clean_languages()

    def clean_languages(self) -> None:
        """The offered languages are known ones, at least one, and include the default."""
        known = language_codes()
        offered = self.languages if isinstance(self.languages, list) else []
        if not offered or any(code not in known for code in offered):
            raise ValidationError({"languages": _("Choose one or more of: %s.") % ", ".join(known)})
        if self.default_language not in offered:
            raise ValidationError(
                {"default_language": _("The default language must be one the program offers.")}
            )

    def language_for(self, chosen: str) -> str:
        """``chosen`` when the program offers it, else the program's default language."""
        return chosen if chosen in self.languages else self.default_language

    @property
    def constants(self) -> Constants:
        from assessments.measurement.rules import Constants

        return Constants.from_overrides(self.placement_overrides or {})


class CoordinatorMembership(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coordinator_memberships"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "user"], name="one_membership_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} coordinates {self.program}"


class Cohort(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="cohorts")
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60)
    started_on = models.DateField(_("start date"), default=timezone.localdate)

    class Meta:
        ordering = ["program__name", "-started_on", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "slug"], name="cohort_slug_unique_in_program"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program.name} / {self.name}"

    @property
    def path(self) -> str:
        """The ``PROGRAM/COHORT`` form the management commands accept."""
        return f"{self.program.slug}/{self.slug}"


class Participant(models.Model):
    """A mentor or protégé. One person may mentor in one dyad and be mentored in another.

    Participants created from imported research data have no user: they exist only
    as their research code.
    """

    class Gender(models.TextChoices):
        WOMAN = "woman", _("Woman")
        MAN = "man", _("Man")
        NON_BINARY = "non_binary", _("Non-binary")
        SELF_DESCRIBED = "self_described", _("Self-described")
        PREFER_NOT = "prefer_not_to_say", _("Prefer not to say")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="participant",
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    research_code = models.CharField(
        _("research code"), max_length=12, unique=True, default=new_participant_code
    )
    gender = models.CharField(_("gender"), max_length=20, choices=Gender.choices, blank=True)
    gender_self_description = models.CharField(max_length=100, blank=True)
    language = models.CharField(
        _("language"),
        max_length=12,
        blank=True,
        help_text=_("The language the person chose; empty until they choose one."),
    )
    race_ethnicity = models.CharField(
        _("race / ethnicity (self-described)"),
        max_length=200,
        blank=True,
        help_text=_("Free text or 'prefer not to say'; used only in aggregate."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deletion_requested_at = models.DateTimeField(
        _("deletion requested"),
        null=True,
        blank=True,
        help_text=_("When the participant asked for their data to be deleted."),
    )
    erased_at = models.DateTimeField(
        _("erased"),
        null=True,
        blank=True,
        help_text=_("When an admin erased the person; only the research code is left."),
    )

    class Meta:
        ordering = ["name", "research_code"]

    def __str__(self) -> str:
        return self.name or self.research_code

    @property
    def email(self) -> str:
        return self.user.email if self.user_id else ""


class DyadQuerySet(models.QuerySet):
    def active(self) -> DyadQuerySet:
        return self.filter(is_active=True)

    def for_participant(self, participant: Participant) -> DyadQuerySet:
        return self.filter(Q(mentor=participant) | Q(protege=participant))

    def for_coordinator(self, user, *, every_program: bool = False) -> DyadQuerySet:
        """The dyads of the programs ``user`` coordinates, or all when ``every_program``."""
        if every_program:
            return self
        return self.filter(cohort__program__memberships__user=user)


class Dyad(models.Model):
    class Kind(models.TextChoices):
        FORMAL = "formal", _("Formal (assigned by the program)")
        INFORMAL = "informal", _("Informal (formed by the partners)")

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="dyads")
    mentor = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="dyads_as_mentor"
    )
    protege = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="dyads_as_protege"
    )
    # The names the program gave the partners for this dyad. Coordinators see these, never
    # ``Participant.name``: one person may be in several programs, each naming them.
    mentor_name = models.CharField(
        _("mentor's name"), max_length=200, blank=True, help_text=NAME_IN_DYAD_HELP
    )
    protege_name = models.CharField(
        _("protégé's name"), max_length=200, blank=True, help_text=NAME_IN_DYAD_HELP
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.FORMAL)
    supervisory = models.BooleanField(
        _("supervisory"), default=False, help_text=_("The mentor is the protégé's line manager.")
    )
    started_on = models.DateField(_("start date"), default=timezone.localdate)
    ended_on = models.DateField(_("end date"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    research_code = models.CharField(
        _("research code"), max_length=12, unique=True, default=new_dyad_code
    )

    objects = DyadQuerySet.as_manager()

    class Meta:
        ordering = ["cohort", "research_code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(mentor=models.F("protege")),
                name="mentor_is_not_protege",
                violation_error_message=_("A mentor cannot be their own protégé."),
            ),
            models.UniqueConstraint(
                fields=["cohort", "mentor", "protege"],
                condition=Q(is_active=True),
                name="one_active_dyad_per_pair_per_cohort",
                violation_error_message=_("This pair already has an active dyad in the cohort."),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="dyad_ends_after_it_starts",
                violation_error_message=_("A dyad cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.research_code}: {self.mentor} → {self.protege}"

    def role_of(self, participant: Participant) -> str | None:
        if participant.pk == self.mentor_id:
            return "mentor"
        if participant.pk == self.protege_id:
            return "protege"
        return None

    def partner_of(self, participant: Participant) -> Participant:
        return self.protege if participant.pk == self.mentor_id else self.mentor

    def name_in_dyad(self, participant: Participant) -> str:
        """The name this dyad's program supplied for the partner (else their own name)."""
        supplied = self.mentor_name if participant.pk == self.mentor_id else self.protege_name
        return supplied or participant.name or participant.research_code
