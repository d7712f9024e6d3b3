"""The admin's exports page: pick a cohort and a file, download it as it is produced;
and the research files' guide (docs/exports.md) beside it."""

from __future__ import annotations

import tempfile

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from relationships.models import Cohort

from .services import ARCHIVES, FORMATS, LoggedExport, archive_write, export_log

PERMISSION = "assessments.export_cohort"
GUIDE = settings.BASE_DIR / "docs" / "exports.md"
# One sentence per choice of the page, in the order offered; docs/exports.md has more.
DESCRIPTIONS = {
    "long": _("One row per answer of a submitted response, raw values before reverse keying."),
    "respondent": _(
        "One row per submitted response: raw answers, subscale scores and battery scores."
    ),
    "dyad": _(
        "One row per dyad and wave: both partners' scores, the dyad's level and difference, "
        "placement state, flags and change."
    ),
    "pairwise": _(
        "One row per submitted response with the partner's scores beside the actor's, "
        "for actor–partner models."
    ),
    "codebook": _("One row per column of the other files: label, type, values and item wordings."),
    "sav": _(
        "The respondent and dyad files for SPSS, with variable and value labels from the "
        "codebook (a zip of two .sav files)."
    ),
    "dta": _("The same respondent and dyad files for Stata (a zip of two .dta files)."),
    "zip": _(
        "Every file above, the SPSS and Stata files, read_cohort.R to read the CSV files "
        "into R with their types and labels, and a README."
    ),
}


class ExportForm(forms.Form):
    cohort = forms.ModelChoiceField(
        label=_("Cohort"), queryset=Cohort.objects.select_related("program")
    )
    format = forms.ChoiceField(
        label=_("File"),
        choices=[(f, f) for f in FORMATS]
        + [("sav", _("sav: SPSS")), ("dta", _("dta: Stata")), ("zip", _("zip: every file"))],
    )


def _check(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


@login_required
@require_GET
def exports_page(request: HttpRequest) -> HttpResponse:
    _check(request)
    form = ExportForm(request.GET or None)
    if not form.is_valid():
        context = {"form": form, "descriptions": DESCRIPTIONS.items()}
        return render(request, "exports/index.html", context)
    cohort, format = form.cleaned_data["cohort"], form.cleaned_data["format"]
    name = f"{cohort.program.slug}-{cohort.slug}-{format}"
    if format in ARCHIVES:
        return _archive(request, cohort, format, name)
    stream = LoggedExport(user=request.user, cohort=cohort, format=format)
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _archive(request: HttpRequest, cohort: Cohort, format: str, name: str) -> FileResponse:
    """A zip built in a temporary file before its first byte, then sent from disk; the
    file goes when the response closes it."""
    archive = tempfile.TemporaryFile()
    try:
        rows = archive_write(cohort=cohort, format=format, target=archive)
    except BaseException:
        archive.close()
        raise
    export_log(user=request.user, cohort=cohort, format=format, rows=rows, via="page")
    archive.seek(0)
    return FileResponse(
        archive, as_attachment=True, filename=f"{name}.zip", content_type="application/zip"
    )


@login_required
@require_GET
def exports_guide(request: HttpRequest) -> HttpResponse:
    """docs/exports.md as the repository holds it, for those who may download the files."""
    _check(request)
    if not GUIDE.is_file():
        raise Http404
    return render(request, "exports/guide.html", {"text": GUIDE.read_text(encoding="utf-8")})
