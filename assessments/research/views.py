"""The admin's exports page: pick a cohort and a file, download it as it is produced."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from relationships.models import Cohort

from .services import FORMATS, LoggedExport, export_log, export_zip

PERMISSION = "assessments.export_cohort"


class ExportForm(forms.Form):
    cohort = forms.ModelChoiceField(
        label=_("Cohort"), queryset=Cohort.objects.select_related("program")
    )
    format = forms.ChoiceField(
        label=_("File"), choices=[(f, f) for f in FORMATS] + [("zip", _("zip: all five files"))]
    )


@login_required
@require_GET
def exports_page(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    form = ExportForm(request.GET or None)
    if not form.is_valid():
        return render(request, "exports/index.html", {"form": form})
    cohort, format = form.cleaned_data["cohort"], form.cleaned_data["format"]
    name = f"{cohort.program.slug}-{cohort.slug}-{format}"
    if format == "zip":
        data, rows = export_zip(cohort=cohort)
        export_log(user=request.user, cohort=cohort, format=format, rows=rows, via="page")
        response = HttpResponse(data, content_type="application/zip")
    else:
        stream = LoggedExport(user=request.user, cohort=cohort, format=format)
        response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}.{"zip" if format == "zip" else "csv"}"'
    )
    return response
