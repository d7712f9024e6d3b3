"""What a coordinator takes away: the dashboard's dyad list as a CSV file, audited.

A download of names and scores is personal data leaving the product, so it is written
to the audit trail as the research exports are (DESIGN §7): once, whatever becomes of
the stream, marked incomplete when it stops before its end. The event names the cohort,
the wave, the filters and the rows, never a person (a search text is recorded only as
having been given, since it may be a name).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.http import HttpRequest

from assessments.models import Wave
from audit.models import AuditEvent
from audit.services import audit_record
from relationships.models import Cohort, User

from . import files
from .selectors.dyad_list import dyad_list_records

FILTERS = ("state", "flag", "transition", "response", "status", "sort")


def dyad_list_name(*, cohort: Cohort, wave: Wave | None) -> str:
    """The file's name: ``PROGRAM-COHORT-dyads[-waveN].csv`` (slugs only)."""
    tail = f"-wave{wave.number}" if wave else ""
    return f"{cohort.program.slug}-{cohort.slug}-dyads{tail}.csv"


class LoggedDyadList:
    """The dyad list's bytes for a streamed download, recorded once in the audit trail:
    complete after the last chunk; incomplete when the stream is closed before that (the
    client went away), even before its first chunk, or when producing it failed.

    ``waves`` are the cohort's waves whose results the file carries (those that have
    opened); ``wave`` and ``filters`` are the dashboard's (``DyadFilterForm.filters``).
    """

    def __init__(
        self,
        *,
        user: User,
        cohort: Cohort,
        waves: list[Wave],
        wave: Wave | None,
        filters: Mapping[str, Any],
        request: HttpRequest | None = None,
    ) -> None:
        self.user, self.cohort, self.waves, self.wave = user, cohort, waves, wave
        self.filters, self.request = filters, request
        self.rows = 0
        self.logged = False
        self._bytes = self._stream()

    def __iter__(self) -> Iterator[bytes]:
        return self._bytes

    def close(self) -> None:
        self._bytes.close()  # a stream under way records itself on the way out
        self._log(complete=False)

    def _stream(self) -> Iterator[bytes]:
        complete = False
        try:
            for chunk in files.csv_chunks(files.DYAD_LIST_COLUMNS, self._counted()):
                yield chunk.encode()
            complete = True
        finally:
            self._log(complete=complete)

    def _counted(self) -> Iterator[list[Any]]:
        waves = [(wave.pk, wave.number, str(wave)) for wave in self.waves]
        records = dyad_list_records(cohort=self.cohort, wave=self.wave, filters=self.filters)
        slugs = {"program": self.cohort.program.slug, "cohort": self.cohort.slug}
        for row in files.dyad_list_rows(records, waves, **slugs):
            self.rows += 1
            yield row

    def _log(self, *, complete: bool) -> None:
        if self.logged:
            return
        self.logged = True
        detail = {
            "rows": self.rows,
            "wave": self.wave.number if self.wave else None,
            "filters": {name: self.filters[name] for name in FILTERS if self.filters.get(name)},
            "search": bool((self.filters.get("q") or "").strip()),
        }
        audit_record(
            action=AuditEvent.Action.DYADS_DOWNLOADED,
            actor=self.user,
            target=self.cohort.path,
            detail=detail,
            request=self.request,
            program=self.cohort.program.slug,
            incomplete=not complete,
        )
