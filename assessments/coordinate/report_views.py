"""What a coordinator takes away from a cohort (DESIGN §1, §7): the dashboard's dyad list
as a CSV file and a printable report.

Both open to the program's coordinators and holders of the every-program permission
only, as the dashboards do: anonymous users go to the login page, everyone else gets
404. Neither holds an item answer.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .download_services import LoggedDyadList, dyad_list_name
from .forms import DyadFilterForm
from .guards import cohort_or_404
from .selectors.report import cohort_report
from .selectors.waves import chosen_wave, cohort_waves, opened


@login_required
@require_GET
def dyad_list(request: HttpRequest, program: str, cohort: str) -> StreamingHttpResponse:
    """The dyads the dashboard lists under the same filters, every opened wave's stored
    result beside each, streamed as CSV and recorded in the audit trail."""
    found = cohort_or_404(request, program, cohort)
    waves = cohort_waves(cohorts=[found])
    filters = DyadFilterForm(request.GET, waves=waves).filters()
    now = timezone.now()
    wave = chosen_wave(waves, filters.get("wave"), now)
    stream = LoggedDyadList(
        user=request.user,
        cohort=found,
        waves=opened(waves, now),
        wave=wave,
        filters=filters,
        request=request,
    )
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{dyad_list_name(cohort=found, wave=wave)}"'
    )
    return response


@login_required
@require_GET
def report(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    found = cohort_or_404(request, program, cohort)
    number = request.GET.get("wave", "")
    shown = cohort_report(cohort=found, wave_number=int(number) if number.isdigit() else None)
    return render(request, "coordinate/report.html", {"cohort": found, "report": shown})
