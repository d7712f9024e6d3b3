"""The admin's exports page: pick a cohort and a file, download it as it is produced;
and the research files' guide (docs/exports.md) beside it.

A CSV file streams from the request. What takes longer runs on the worker and the page
sends the person to the job's page: a zip is built there and offered when ready, and a
scored file whose cohort's results are not those of the program's current constants
waits for the cohort to be scored again first.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from jobs.models import Job
from relationships.models import Cohort

from ..background import recompute_start
from .services import ARCHIVES, FORMATS, SCORED, LoggedExport, results_outdated
from .tasks import PERMISSION, archive_start

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
@require_http_methods(["GET", "POST"])
def exports_page(request: HttpRequest) -> HttpResponse:
    """The form posts; a GET with the same fields (a bookmarked link) streams a CSV file
    too, but work for the worker starts only from a POST."""
    _check(request)
    form = ExportForm(request.POST if request.method == "POST" else request.GET or None)
    if not form.is_valid():
        context = {"form": form, "descriptions": DESCRIPTIONS.items()}
        return render(request, "exports/index.html", context)
    cohort, format = form.cleaned_data["cohort"], form.cleaned_data["format"]
    if format in ARCHIVES or (format in SCORED and results_outdated(cohort=cohort)):
        if request.method != "POST":
            context = {"form": form, "descriptions": DESCRIPTIONS.items(), "confirm": True}
            return render(request, "exports/index.html", context)
        return redirect("jobs:job", _job_start(request, cohort, format).pk)
    name = f"{cohort.program.slug}-{cohort.slug}-{format}"
    stream = LoggedExport(user=request.user, cohort=cohort, format=format)
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _job_start(request: HttpRequest, cohort: Cohort, format: str) -> Job:
    back = reverse("exports:index")
    if format in ARCHIVES:
        return archive_start(cohort=cohort, format=format, owner=request.user, back_url=back)
    download = f"{back}?{urlencode({'cohort': cohort.pk, 'format': format})}"
    then = (_("Download the %(file)s file") % {"file": format}, download)
    return recompute_start(cohort=cohort, owner=request.user, back_url=back, then=then)


@login_required
@require_GET
def exports_guide(request: HttpRequest) -> HttpResponse:
    """docs/exports.md as the repository holds it, for those who may download the files."""
    _check(request)
    if not GUIDE.is_file():
        raise Http404
    return render(request, "exports/guide.html", {"text": GUIDE.read_text(encoding="utf-8")})
