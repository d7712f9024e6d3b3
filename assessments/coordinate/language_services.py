"""Coordinator writes of a program's languages, recorded in the audit trail (DESIGN §7)."""

from __future__ import annotations

from django.db import transaction

from audit.services import audit_record
from relationships.models import Program, User

# Stored as text beside ``AuditEvent.Action``, as the delivery settings are.
LANGUAGES_CHANGED = "program.languages_changed"


@transaction.atomic
def program_languages_save(
    *, program: Program, languages: list[str], default_language: str, actor: User
) -> Program:
    """Set the languages ``program`` offers and its default language. Raises
    ``ValidationError`` when a language is unknown or the default is not offered."""
    before = {"languages": program.languages, "default_language": program.default_language}
    program.languages, program.default_language = languages, default_language
    program.clean_languages()
    program.save(update_fields=["languages", "default_language"])
    audit_record(
        action=LANGUAGES_CHANGED,
        actor=actor,
        target=f"program {program.slug}",
        detail={"before": before, "languages": languages, "default_language": default_language},
        program=program.slug,
    )
    return program
