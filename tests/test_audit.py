"""The audit trail (DESIGN §7): admin changes, exports, alert follow-ups, revoked links and
failed sign-ins are recorded with who, what and when; admins read it, nobody edits it."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from assessments.invitations import invitations_send
from assessments.models import Invitation, Wave
from audit.models import AuditEvent
from relationships.models import Program
from tests import factories
from tests.coordinate.test_actions import declining, follow_up  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


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
              "keep_research_data_on_erasure": "on"}  # fmt: skip
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


def test_an_alert_follow_up_is_recorded(client, cast, declining):  # noqa: F811
    client.force_login(cast.coordinator)
    follow_up(client, cast)
    [event] = events(AuditEvent.Action.FOLLOW_UP)
    assert event.actor == cast.coordinator and cast.dyad.research_code in event.target
    assert event.detail == {"reason": "dysfunctional"}


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


def test_coordinators_cannot_read_the_trail(client, cast):
    client.force_login(cast.coordinator)
    response = client.get(reverse("admin:audit_auditevent_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response.url
