"""The audit trail (DESIGN §7): admin changes, exports (cut off ones too), every write of
the coordinator pages and of the management commands, revoked links and failed sign-ins
are recorded with who, what, when and the program; admins read it, nobody edits it."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.signals import request_finished
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone

from assessments.invitations import invitations_send
from assessments.models import ExportLog, Invitation, Wave
from assessments.research import files, pgcopy
from assessments.research.views import exports_page
from audit.models import AuditEvent
from audit.services import audit_record
from relationships.models import Cohort, Dyad, Program
from tests import factories
from tests.coordinate.builders import cohort_url
from tests.coordinate.test_actions import (  # noqa: F401  (fixtures)
    declining,
    dyad_form,
    follow_up,
    mail,
    open_wave,
    wave_form,
)
from tests.coordinate.test_import_dyads import pairs

pytestmark = pytest.mark.django_db


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def recorded(action: str, actor, program: str = "bridges") -> AuditEvent:
    """The one event of ``action``, checked for who and which program."""
    [event] = events(action)
    assert event.actor == actor and event.actor_label == actor.get_username()
    assert event.program == program and event.at is not None and not event.incomplete
    return event


def unattended(action: str, program: str) -> AuditEvent:
    """The one event of ``action`` written by a management command."""
    [event] = events(action)
    assert event.actor is None and event.program == program and event.detail["via"] == "command"
    return event


def form_time(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def admin_form_post(client, url: str, fields: dict) -> object:
    """POST the admin form at ``url`` with ``fields`` and empty inline formsets."""
    page = client.get(url)
    data = dict(fields)
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data |= {f"{management.prefix}-{k}": v for k, v in management.initial.items()}
        data[f"{management.prefix}-TOTAL_FORMS"] = "0"
        data[f"{management.prefix}-INITIAL_FORMS"] = "0"
    return client.post(url, data)


def test_a_change_made_in_the_admin_is_recorded(client, cast):
    client.force_login(cast.admin)
    fields = {"name": "Bridges North", "slug": "bridges-north", "placement_overrides": "{}",
              "keep_research_data_on_erasure": "on", "languages": ["en", "es"],
              "default_language": "en"}  # fmt: skip
    response = admin_form_post(client, reverse("admin:relationships_program_add"), fields)
    assert response.status_code == 302
    [event] = events(AuditEvent.Action.ADMIN_ADDITION)
    assert event.actor == cast.admin and event.actor_label == "admin@example.org"
    assert "Bridges North" in event.target and "relationships.program" in event.target


def test_deleting_several_objects_in_the_admin_records_each(client, cast):
    doomed = [factories.ProgramFactory(name=f"Old {n}", slug=f"old-{n}") for n in range(3)]
    client.force_login(cast.admin)
    response = client.post(
        reverse("admin:relationships_program_changelist"),
        {"action": "delete_selected", "_selected_action": [p.pk for p in doomed], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Program.objects.filter(slug__startswith="old-").exists()
    targets = sorted(e.target for e in events(AuditEvent.Action.ADMIN_DELETION))
    assert len(targets) == 3 and all("Old" in t for t in targets)


def test_an_export_is_recorded_with_its_file_and_rows(cast, tmp_path):
    admin = cast.admin
    call_command("seed_demo", "--dyads", "2", "--waves", "2", verbosity=0)
    call_command("export_cohort", "demo/2026", "--format", "dyad", "-o", str(tmp_path / "d.csv"))
    [event] = events(AuditEvent.Action.EXPORT)
    assert event.target == "demo/2026" and event.detail["format"] == "dyad"
    assert event.detail["rows"] > 0 and event.actor is None and admin.pk
    assert event.program == "demo" and not event.incomplete


def test_an_alert_follow_up_is_recorded(client, cast, declining):  # noqa: F811
    client.force_login(cast.coordinator)
    follow_up(client, cast)
    event = recorded(AuditEvent.Action.FOLLOW_UP, cast.coordinator)
    assert cast.dyad.research_code in event.target
    assert event.detail == {"reason": "dysfunctional"}


# --- the coordinator pages -----------------------------------------------------------------


def test_scheduling_a_wave_is_recorded(client, cast):
    client.force_login(cast.coordinator)
    client.post(cohort_url(cast, "manage/waves/new/"), wave_form(factories.InstrumentFactory()))
    event = recorded(AuditEvent.Action.WAVE_SCHEDULED, cast.coordinator)
    assert event.target == "bridges/2026 wave 1" and event.detail["opens_at"].startswith("2027")


def test_changing_a_wave_is_recorded_with_what_changed(client, cast, declining):  # noqa: F811
    client.force_login(cast.admin)
    instrument = declining[1].instrument
    form = wave_form(instrument, opens="2026-01-01T00:00", closes="2030-01-01T00:00")
    client.post(cohort_url(cast, "manage/waves/2/"), {**form, "label": "Check-in"})
    event = recorded(AuditEvent.Action.WAVE_CHANGED, cast.admin)
    assert event.detail["label"] == ["Wave 2", "Check-in"]
    assert event.detail["closes_at"][1].startswith("2030") and "instrument" not in event.detail


def test_closing_a_wave_early_is_recorded_as_closing_it(client, cast, open_wave):  # noqa: F811
    client.force_login(cast.coordinator)
    now = timezone.now()
    form = wave_form(open_wave.instrument, form_time(now - dt.timedelta(days=9)),
                     form_time(now - dt.timedelta(minutes=5)))  # fmt: skip
    client.post(cohort_url(cast, f"manage/waves/{open_wave.number}/"), form)
    event = recorded(AuditEvent.Action.WAVE_CLOSED, cast.coordinator)
    assert "closes_at" in event.detail and not events(AuditEvent.Action.WAVE_CHANGED)


def test_invitations_and_reminders_of_a_wave_are_recorded(client, cast, open_wave, mail):  # noqa: F811
    client.force_login(cast.coordinator)
    client.post(cohort_url(cast, f"manage/waves/{open_wave.number}/invite/"))
    client.post(cohort_url(cast, f"manage/waves/{open_wave.number}/remind/"))
    invited = recorded(AuditEvent.Action.INVITATIONS_SENT, cast.coordinator)
    reminded = recorded(AuditEvent.Action.REMINDERS_SENT, cast.coordinator)
    assert invited.detail["sent"] > 0 and isinstance(reminded.detail["sent"], int)
    assert invited.target == reminded.target == f"bridges/2026 wave {open_wave.number}"


def test_a_reminder_to_one_partner_is_recorded(client, cast, open_wave, mail):  # noqa: F811
    client.force_login(cast.coordinator)
    url = cohort_url(cast, f"dyads/{cast.dyad.research_code}/remind/")
    client.post(url, {"wave": open_wave.number, "role": "protege"})
    event = recorded(AuditEvent.Action.REMINDERS_SENT, cast.coordinator)
    assert cast.dyad.research_code in event.target
    assert event.detail == {"sent": 1, "role": "protege"}


def test_creating_a_cohort_is_recorded(client, cast):
    client.force_login(cast.coordinator)
    client.post(
        f"/coordinate/{cast.program.slug}/cohorts/new/",
        {"name": "Autumn 2027", "slug": "", "started_on": "2027-09-01"},
    )
    event = recorded(AuditEvent.Action.COHORT_CREATED, cast.coordinator)
    assert event.target == "bridges/autumn-2027" and event.detail["name"] == "Autumn 2027"


def test_adding_and_ending_a_dyad_are_recorded(client, cast):
    client.force_login(cast.coordinator)
    client.post(cohort_url(cast, "manage/dyads/new/"), dyad_form())
    added = Dyad.objects.get(mentor__user__email="ada@example.org")
    url = cohort_url(cast, f"dyads/{added.research_code}/end/")
    client.post(url, {"ended_on": timezone.localdate().isoformat()})
    created = recorded(AuditEvent.Action.DYAD_CREATED, cast.coordinator)
    ended = recorded(AuditEvent.Action.DYAD_ENDED, cast.coordinator)
    assert created.target == ended.target == f"dyad {added.research_code}"
    assert "ada@example.org" not in str(created.detail)  # codes, never identities


def test_a_dyad_import_from_the_page_is_recorded(client, cast):
    client.force_login(cast.coordinator)
    client.post(cohort_url(cast, "manage/dyads/import/"), {"csv_text": pairs(2)})
    event = recorded(AuditEvent.Action.DYADS_IMPORTED, cast.coordinator)
    assert event.detail == {"dyads": 2, "new_participants": 4}


def test_a_refused_write_records_nothing(client, cast):
    client.force_login(cast.other_coordinator)
    client.post(cohort_url(cast, "manage/waves/new/"), wave_form(factories.InstrumentFactory()))
    client.force_login(cast.coordinator)
    client.post(cohort_url(cast, "manage/dyads/import/"), {"csv_text": pairs(1) + "x,X,y,Y,,,\n"})
    assert not AuditEvent.objects.exclude(action=AuditEvent.Action.LOGIN_FAILED).exists()


# --- the management commands ---------------------------------------------------------------


def test_sending_invitations_and_reminders_from_the_command_line_is_recorded(cast, open_wave, mail):  # noqa: F811
    call_command("send_invitations", "--wave", str(open_wave.pk), verbosity=0)
    call_command("send_reminders", "--wave", str(open_wave.pk), verbosity=0)
    invited = unattended(AuditEvent.Action.INVITATIONS_SENT, "bridges")
    reminded = unattended(AuditEvent.Action.REMINDERS_SENT, "bridges")
    assert invited.target == reminded.target == f"bridges/2026 wave {open_wave.number}"
    assert invited.detail["queued"] > 0


def test_importing_dyads_from_the_command_line_is_recorded(cast, tmp_path):
    path = tmp_path / "dyads.csv"
    path.write_text(pairs(3), encoding="utf-8")
    call_command("import_dyads", str(path), "--cohort", cast.cohort.path, "--dry-run")
    assert not events(AuditEvent.Action.DYADS_IMPORTED)
    call_command("import_dyads", str(path), "--cohort", cast.cohort.path)
    event = unattended(AuditEvent.Action.DYADS_IMPORTED, "bridges")
    assert event.target == "bridges/2026" and event.detail["dyads"] == 3


def test_recomputing_scores_and_importing_responses_are_recorded(cast, tmp_path):
    call_command("seed_demo", "--dyads", "2", "--waves", "2", verbosity=0)
    call_command("recompute_scores", "--cohort", "demo/2026")
    recomputed = unattended(AuditEvent.Action.SCORES_RECOMPUTED, "demo")
    assert recomputed.target == "demo/2026" and recomputed.detail["results"] > 0
    path = tmp_path / "long.csv"
    call_command("export_cohort", "demo/2026", "--format", "long", "-o", str(path))
    call_command("import_responses", str(path), verbosity=0)
    [loaded] = events(AuditEvent.Action.RESPONSES_IMPORTED)
    assert loaded.target == "long.csv" and loaded.detail == {"answers": 0, "via": "command"}


# --- exports from the page -----------------------------------------------------------------


@pytest.fixture
def export_page(cast, monkeypatch, rf):
    """The admin's exports page answering for the seeded demo's dyad file (10 rows a
    chunk) as a WSGI server receives it: a response whose stream the server reads, then
    closes."""
    call_command("seed_demo", "--dyads", "8", "--waves", "3", verbosity=0)
    monkeypatch.setattr(files, "ROWS_PER_CHUNK", 10)  # SQLite: 10 rows a chunk
    monkeypatch.setattr(pgcopy, "COPY_BLOCK", 1)  # PostgreSQL: one row a block
    cohort = Cohort.objects.get(program__slug="demo")

    def answer():
        request = rf.get("/exports/", {"cohort": cohort.pk, "format": "dyad"})
        request.user = cast.admin
        return exports_page(request)

    return answer


def close_as_a_server(response) -> None:
    """Close ``response`` as a WSGI server does, at the end or when its client goes away,
    keeping the test's database connection open (``request_finished`` would close it)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def test_a_streamed_export_cut_off_after_its_first_chunks_is_recorded_incomplete(export_page, cast):
    response = export_page()
    content = response.streaming_content
    first = next(content) + next(content)
    close_as_a_server(response)  # the client went away
    [event] = events(AuditEvent.Action.EXPORT)
    assert event.incomplete and event.actor == cast.admin and event.program == "demo"
    sent = first.count(b"\r\n") - 1  # less the header
    assert event.detail["rows"] == sent == ExportLog.objects.get().rows
    whole = b"".join(export_page().streaming_content)
    assert 0 < sent < whole.count(b"\r\n") - 1


def test_an_export_closed_before_its_first_chunk_is_recorded_incomplete(export_page, cast):
    close_as_a_server(export_page())
    [event] = events(AuditEvent.Action.EXPORT)
    assert event.incomplete and event.detail["rows"] == 0 and event.actor == cast.admin


def test_a_streamed_export_read_to_its_end_is_recorded_once_and_complete(export_page, cast):
    response = export_page()
    body = b"".join(response.streaming_content)
    close_as_a_server(response)
    event = recorded(AuditEvent.Action.EXPORT, cast.admin, program="demo")
    assert event.detail["rows"] == body.count(b"\r\n") - 1 > 20


def test_revoking_links_in_the_admin_records_each(client, cast, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", "--dyads", "2", "--waves", "2", verbosity=0)
    invitations_send(wave=Wave.objects.get(cohort__program__slug="demo", number=2))
    chosen = list(Invitation.objects.values_list("pk", flat=True)[:2])
    client.force_login(cast.admin)
    client.post(
        reverse("admin:assessments_invitation_changelist"),
        {"action": "revoke", "_selected_action": chosen},
    )
    assert Invitation.objects.filter(pk__in=chosen, revoked_at__isnull=False).count() == 2
    revoked = events(AuditEvent.Action.TOKEN_REVOKED)
    assert len(revoked) == 2 and {e.actor for e in revoked} == {cast.admin}


def test_a_failed_sign_in_is_recorded_without_the_password(client, cast):
    client.post(reverse("login"), {"username": "mentor@x.org", "password": "guess-123"})
    [event] = events(AuditEvent.Action.LOGIN_FAILED)
    assert event.target == "mentor@x.org" and event.ip_address == "127.0.0.1"
    assert "guess-123" not in str(event.detail) and event.actor is None


def test_admins_read_the_trail_and_nobody_can_change_it(client, cast):
    client.post(reverse("login"), {"username": "someone@x.org", "password": "nope"})
    event = AuditEvent.objects.get()
    client.force_login(cast.admin)
    listing = client.get(reverse("admin:audit_auditevent_changelist"))
    assert listing.status_code == 200 and "someone@x.org" in listing.text
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    detail = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.text
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_trail_lists_the_program_and_marks_cut_off_exports(client, cast):
    audit_record(action=AuditEvent.Action.EXPORT, target="bridges/2026", program="bridges",
                 incomplete=True)  # fmt: skip
    audit_record(action=AuditEvent.Action.LOGIN_FAILED, target="someone@x.org")
    client.force_login(cast.admin)
    listing = client.get(reverse("admin:audit_auditevent_changelist"))
    assert "column-program" in listing.text and "column-incomplete" in listing.text
    assert "bridges" in listing.text
    cut = client.get(reverse("admin:audit_auditevent_changelist"), {"incomplete__exact": "1"})
    assert [e.target for e in cut.context["cl"].result_list] == ["bridges/2026"]
    by_program = client.get(reverse("admin:audit_auditevent_changelist"), {"program": "bridges"})
    assert by_program.context["cl"].result_count == 1


def test_coordinators_cannot_read_the_trail(client, cast):
    client.force_login(cast.coordinator)
    response = client.get(reverse("admin:audit_auditevent_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response.url
