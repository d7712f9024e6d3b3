"""The coordinator page of a program's languages: which its participants may choose and
the default they see until they do (README, "Languages").

Guarded as the other management pages (DESIGN §7): anonymous visitors go to sign-in,
someone who coordinates no program gets 403, a coordinator of another program 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from relationships.forms import ProgramLanguagesForm

from .guards import managed_program
from .language_services import program_languages_save


@login_required
@require_http_methods(["GET", "POST"])
def program_languages(request: HttpRequest, program: str) -> HttpResponse:
    found = managed_program(request, program)
    initial = ProgramLanguagesForm.initial_of(found)
    form = ProgramLanguagesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            program_languages_save(program=found, actor=request.user, **form.cleaned_data)
            messages.success(request, _("The program's languages are saved."))
            return redirect("coordinate:program_languages", found.slug)
        except ValidationError as error:
            form.add_error(None, error)
    context = {"program": found, "form": form, "title": _("Languages")}
    return render(request, "coordinate/languages.html", context)
