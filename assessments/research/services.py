"""Producing a cohort's research files and recording every export in the audit log.

The respondent, dyad and pairwise files of one export agree cell for cell: before any
of them is written the stored results are brought up to the program's current
constants (``results_refresh``), the dyad file reads those results, and the other two
score the answers through ``measurement.pipeline`` with the same constants, each
response against its own wave's instrument version. All three name the rule version.
On PostgreSQL all three are read from those stored results by ``COPY`` (``pgcopy``),
which gives the same bytes: the stored scores are the pipeline's doubles.
"""

from __future__ import annotations

import io
import itertools
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd
from django.db import connection

from audit.models import AuditEvent
from audit.services import audit_record
from relationships.models import Cohort

from ..measurement import pipeline
from ..measurement.rules import Constants
from ..models import ExportLog
from ..services import results_recompute
from . import files, labelled, pgcopy
from . import selectors as reads

FORMATS = ("long", "respondent", "dyad", "pairwise", "codebook")
SCORED = ("respondent", "dyad", "pairwise")
LABELLED = labelled.FORMATS
# What a download gets as one zip: every file, or the two files of a labelled format.
ARCHIVES = ("zip", *LABELLED)
R_SCRIPT = Path(__file__).with_name("read_cohort.R")


class Counted:
    """Wraps a row iterator and counts the rows that went through."""

    def __init__(self, rows: Iterator):
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


class CountedLines(Counted):
    """Counts the CRLF-ended rows in blocks of CSV text going through."""

    def __iter__(self):
        for block in self.rows:
            self.count += block.count("\n")
            yield block


def results_refresh(
    *, cohort: Cohort, progress: Callable[[str, int], None] | None = None
) -> Constants:
    """Recompute the cohort's stored results when they are not those of the program's
    current constants (``selectors.results_outdated``); return those constants.
    ``progress`` is ``results_recompute``'s.

    One query when the results are current, as after every submit and import; after a
    program changed its constants, the recompute ``recompute_scores`` would have done.
    """
    constants = cohort.program.constants
    if results_outdated(cohort=cohort):
        results_recompute(cohort=cohort, progress=progress)
    return constants


def results_outdated(*, cohort: Cohort) -> bool:
    """Whether an export of a scored file would first recompute the cohort's results."""
    return reads.results_outdated(
        cohort=cohort, rule_version=cohort.program.constants.version_label
    )


def export_stream(
    *, cohort: Cohort, format: str, constants: Constants | None = None
) -> tuple[Iterator[str], Counted]:
    """CSV text of one file, chunk by chunk, and the counter of its data rows.

    A scored file first refreshes the stored results, unless ``constants`` says that the
    caller (``export_zip``) already did. On PostgreSQL every file but the codebook comes
    straight from ``COPY``, the scored ones from the refreshed stored results; the bytes
    are the same either way (tests/research/test_pgcopy.py compares them). Raises
    ``ValueError`` for an unknown format.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)} or zip")
    if format in SCORED and constants is None:
        constants = results_refresh(cohort=cohort)
    if format != "codebook" and connection.vendor == "postgresql":
        header, blocks = _copied(cohort, format, constants)
        counted = CountedLines(blocks)
        return itertools.chain(files.csv_chunks(header, ()), counted), counted
    header, rows = _file(cohort, format, constants)
    counted = Counted(rows)
    return files.csv_chunks(header, counted), counted


def _copied(cohort: Cohort, format: str, constants: Constants | None):
    """Header and ``COPY`` blocks of a file on PostgreSQL (the same bytes as ``_file``)."""
    if format == "long":
        return files.LONG_COLUMNS, pgcopy.long_copy(cohort=cohort)
    if format == "dyad":
        return files.DYAD_COLUMNS, pgcopy.dyad_copy(cohort=cohort)
    rule_version = constants.version_label
    if format == "pairwise":
        return files.PAIRWISE_COLUMNS, pgcopy.pairwise_copy(
            cohort=cohort, rule_version=rule_version
        )
    items, item_codes, subscales = reads.respondent_catalogue(cohort=cohort)
    column = {code: i for i, code in enumerate(item_codes, start=1)}
    pairs = zip(items["item_id"], items["item"], strict=True)
    positions = [(int(pk), column[code]) for pk, code in pairs]
    blocks = pgcopy.respondent_copy(
        cohort=cohort,
        positions=positions,
        item_codes=len(item_codes),
        subscales=subscales,
        rule_version=rule_version,
    )
    return files.respondent_columns(item_codes, subscales), blocks


def _file(cohort: Cohort, format: str, constants: Constants | None):
    if format == "long":
        return files.LONG_COLUMNS, files.long_rows(reads.long_records(cohort=cohort))
    if format == "dyad":
        return files.DYAD_COLUMNS, files.dyad_rows(reads.dyad_records(cohort=cohort))
    if format == "codebook":
        items, languages, answered_in = reads.codebook_items(cohort=cohort)
        subscales = list(dict.fromkeys(s for s in items["subscale"] if "-" in s))
        rows = files.codebook_rows(items, subscales, languages, answered_in)
        return files.codebook_columns(languages), rows
    items, item_codes, subscales = reads.respondent_catalogue(cohort=cohort)
    frames = respondent_frames(cohort=cohort, items=items, constants=constants)
    if format == "respondent":
        header = files.respondent_columns(item_codes, subscales)
        rows = (files.respondent_rows(f, item_codes, subscales) for f in frames)
        return header, itertools.chain.from_iterable(rows)
    rows = (files.pairwise_rows(f) for f in frames)
    return files.PAIRWISE_COLUMNS, itertools.chain.from_iterable(rows)


def respondent_frames(
    *, cohort: Cohort, items: pd.DataFrame, constants: Constants
) -> Iterator[pd.DataFrame]:
    """Scores, raw answers and codes of every submitted response, batch by batch
    (``files.respondent_frame``), scored through the one pipeline with ``constants``.

    ``items`` carries ``instrument``, so each response is scored with its own instrument
    version's keys and item counts.
    """
    same = {
        "program": cohort.program.slug,
        "cohort": cohort.slug,
        "rule_version": constants.version_label,
    }
    for batch in reads.respondent_batches(cohort=cohort, items=items):
        scores = pipeline.respondent_scores(batch.answers, items, batch.responses, constants)
        yield files.respondent_frame(scores, batch.answers, batch.codes, **same)


def labelled_write(
    *, cohort: Cohort, format: str, folder: Path, stem: str, constants: Constants | None = None
) -> tuple[list[Path], int]:
    """Write the respondent and dyad files as ``format`` (``sav`` or ``dta``) into
    ``folder``, named ``<stem>-respondent.<format>`` and ``<stem>-dyad.<format>``; return
    their paths and their data rows together.

    Each is its CSV file as ``export_stream`` writes it, spooled to a temporary file and
    labelled from the codebook's rows (``labelled``), so its numbers are the CSV's. One
    file's table is in memory at a time. Raises ``ValueError`` for another format.
    """
    if format not in LABELLED:
        raise ValueError(f"unknown format {format!r}; use one of {', '.join(LABELLED)}")
    if constants is None:
        constants = results_refresh(cohort=cohort)
    with tempfile.TemporaryDirectory() as scratch:
        sources = {n: _spool(cohort, n, constants, Path(scratch))[0] for n in labelled.FILES}
        return _label(cohort, format, sources, folder, stem)


def archive_write(
    *,
    cohort: Cohort,
    format: str,
    target: IO[bytes],
    progress: Callable[[str], None] | None = None,
) -> int:
    """Write into ``target`` the zip that ``format`` (``ARCHIVES``) downloads; return the
    data rows of its files together (of the CSV files only, for ``zip``).

    ``progress(name)`` is called as each file (``archive_steps`` of them) is begun:
    ``"scores"`` first, then the file's format (``"long"``, ``"sav"``…).

    ``zip``: the five CSV files, the respondent and dyad files for SPSS and for Stata
    (made from those CSV files), read_cohort.R and a README; ``sav`` or ``dta``: the
    respondent and dyad files in that format. Files are made in a temporary folder and
    copied into the archive, so memory holds at most one labelled file's table.
    """
    if format not in ARCHIVES:
        raise ValueError(f"unknown archive {format!r}; use one of {', '.join(ARCHIVES)}")
    step = progress or (lambda name: None)
    step("scores")
    constants = results_refresh(cohort=cohort)
    with (
        tempfile.TemporaryDirectory() as scratch,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        folder = Path(scratch)
        if format != "zip":
            step(format)
            paths, rows = labelled_write(
                cohort=cohort, format=format, folder=folder, stem=_stem(cohort),
                constants=constants,
            )  # fmt: skip
            _archive(archive, paths)
            return rows
        spooled = {}
        for name in FORMATS:
            step(name)
            spooled[name] = _spool(cohort, name, constants, folder)
        _archive(archive, [path for path, _ in spooled.values()])
        sources = {name: spooled[name][0] for name in labelled.FILES}
        for name in LABELLED:
            step(name)
            _archive(archive, _label(cohort, name, sources, folder, _stem(cohort))[0])
        archive.write(R_SCRIPT, R_SCRIPT.name)
        archive.writestr("README.txt", files.README)
    return sum(rows for _, rows in spooled.values())


def archive_steps(format: str) -> int:
    """How many times ``archive_write`` calls ``progress`` for ``format``."""
    return 1 + (len(FORMATS) + len(LABELLED) if format == "zip" else 1)


def _stem(cohort: Cohort) -> str:
    return f"{cohort.program.slug}-{cohort.slug}"


def _spool(cohort: Cohort, name: str, constants: Constants, folder: Path) -> tuple[Path, int]:
    """One CSV file written into ``folder`` under its download name; its data rows."""
    chunks, counted = export_stream(cohort=cohort, format=name, constants=constants)
    path = folder / f"{_stem(cohort)}-{name}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(chunks)
    return path, counted.count


def _label(
    cohort: Cohort, format: str, sources: dict[str, Path], folder: Path, stem: str
) -> tuple[list[Path], int]:
    """The CSV files ``sources`` (by file name) written labelled as ``format``."""
    codebook = list(_file(cohort, "codebook", None)[1])
    paths, total = [], 0
    for name, source in sources.items():
        paths.append(folder / f"{stem}-{name}.{format}")
        total += labelled.write_labelled(
            source=source,
            columns=labelled.codebook_columns(codebook, file=name),
            format=format,
            target=paths[-1],
            file_label=f"{cohort.path} {name} file",
        )
    return paths, total


def _archive(archive: zipfile.ZipFile, paths: list[Path]) -> None:
    for path in paths:
        archive.write(path, path.name)


def export_zip(*, cohort: Cohort) -> tuple[bytes, int]:
    """Every file of ``archive_write``'s ``zip`` as bytes, and the CSV files' row count."""
    buffer = io.BytesIO()
    rows = archive_write(cohort=cohort, format="zip", target=buffer)
    return buffer.getvalue(), rows


def export_log(
    *, user, cohort: Cohort, format: str, rows: int, via: str, complete: bool = True
) -> ExportLog:
    """The export's own log row (rows, file) and its entry in the audit trail, marked
    incomplete when the file was cut off before its end (``rows`` then counts what went)."""
    audit_record(
        action=AuditEvent.Action.EXPORT,
        actor=user,
        target=cohort.path,
        detail={"format": format, "rows": rows, "via": via},
        program=cohort.program.slug,
        incomplete=not complete,
    )
    return ExportLog.objects.create(user=user, cohort=cohort, format=format, rows=rows, via=via)


class LoggedExport:
    """One file's bytes for a streamed download, logged once by ``export_log`` whatever
    becomes of the stream: complete after its last chunk; incomplete when it is closed
    before that (the client went away, the server gave up), even before the first chunk,
    or when producing it failed.

    A cut-off stream never runs the code after its last ``yield``: the log is written in
    the generator's ``finally`` (reached on ``GeneratorExit``) and in ``close``, which the
    HTTP response calls on whatever it streams once it is done with it.
    """

    def __init__(self, *, user: Any, cohort: Cohort, format: str, via: str = "page"):
        self.user, self.cohort, self.format, self.via = user, cohort, format, via
        self.counted: Counted | None = None
        self.logged = False
        self._bytes = self._stream()

    def __iter__(self) -> Iterator[bytes]:
        return self._bytes

    def close(self) -> None:
        self._bytes.close()  # an export under way logs itself on the way out
        self._log(complete=False)

    def _stream(self) -> Iterator[bytes]:
        complete = False
        try:
            chunks, self.counted = export_stream(cohort=self.cohort, format=self.format)
            for chunk in chunks:
                yield chunk.encode()
            complete = True
        finally:
            self._log(complete=complete)

    def _log(self, *, complete: bool) -> None:
        if self.logged:
            return
        self.logged = True
        rows = self.counted.count if self.counted is not None else 0
        export_log(
            user=self.user,
            cohort=self.cohort,
            format=self.format,
            rows=rows,
            via=self.via,
            complete=complete,
        )
