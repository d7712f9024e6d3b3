"""What coordinators do from the dashboards: follow alerts up, remind partners, manage
cohorts, waves and dyads."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from assessments.models import AlertFollowUp, DyadWaveResult, Instrument, Response, Wave
from relationships.models import Cohort, Dyad, User
from tests import factories
from tests.coordinate.builders import add_waves, cohort_url, result

pytestmark = pytest.mark.django_db


@pytest.fixture
def declining(cast):
    """The cast's dyad placed dysfunctional after a reliable decline, in wave 2 of 2."""
    waves = add_waves(cast.cohort, 2)
    DyadWaveResult.objects.bulk_create(
        [
            result(cast.dyad, waves[0], "relational"),
            result(
                cast.dyad,
                waves[1],
                "dysfunctional",
                transition="down",
                change=-2.5,
                reliable_decline=True,
            ),
        ]
    )
    for role, person in (("mentor", cast.mentor), ("protege", cast.protege)):
        Response.objects.create(
            wave=waves[1],
            dyad=cast.dyad,
            respondent=person,
            role=role,
            status="submitted",
            submitted_at=waves[1].opens_at + dt.timedelta(days=role == "protege" and 9 or 2),
        )
    return waves


def follow_up(client, cast, reason="dysfunctional", note="Called both partners.", wave=2):
    return client.post(
        cohort_url(cast, "alerts/follow-up/"),
        {"dyad": cast.dyad.research_code, "wave": wave, "reason": reason, "note": note},
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- alerts --------------------------------------------------------------------------------


def test_the_alerts_list_names_the_reason_in_plain_words_and_when_it_was_raised(
    client, cast, declining
):
    client.force_login(cast.coordinator)
    response = client.get(cohort_url(cast, "alerts/"))
    rows = response.context["page"].object_list
    assert [row["reason"] for row in rows] == [
        "dysfunctional",
        "reliable_decline",
        "downward_transition",
    ]
    assert rows[0]["text"].startswith("The relationship is placed as dysfunctional")
    assert rows[0]["raised"] == declining[1].opens_at + dt.timedelta(days=9)  # the later one
    assert "needs a conversation soon" in response.content.decode()


def test_a_partner_missing_near_the_close_raises_an_alert_dated_by_the_window(client, cast):
    waves = add_waves(cast.cohort, 1, open_last=True)
    DyadWaveResult.objects.bulk_create([result(cast.dyad, waves[0], "unplaced")])
    client.force_login(cast.coordinator)
    rows = client.get(cohort_url(cast, "alerts/")).context["page"].object_list
    missing = [row for row in rows if row["reason"] == "partner_missing"]
    codes = {row["code"] for row in missing}
    assert codes == {cast.dyad.research_code, cast.other_dyad.research_code}
    assert missing[0]["raised"] == waves[0].closes_at - dt.timedelta(days=3)


def test_following_up_an_alert_moves_it_to_the_followed_up_list_with_who_and_when(
    client, cast, declining
):
    client.force_login(cast.coordinator)
    response = follow_up(client, cast)
    assert response.status_code == 302
    kept = AlertFollowUp.objects.get()
    assert (kept.reason, kept.note, kept.created_by) == (
        "dysfunctional",
        "Called both partners.",
        cast.coordinator,
    )
    assert timezone.now() - kept.created_at < dt.timedelta(minutes=1)
    open_rows = client.get(cohort_url(cast, "alerts/")).context["page"].object_list
    assert "dysfunctional" not in [row["reason"] for row in open_rows]
    followed = client.get(cohort_url(cast, "alerts/?show=followed"))
    assert [row["note"] for row in followed.context["page"].object_list] == [
        "Called both partners."
    ]
    assert cast.coordinator.get_full_name() in followed.content.decode()


def test_a_followed_up_alert_no_longer_counts_as_open_on_the_dashboard(client, cast, declining):
    client.force_login(cast.coordinator)
    before = client.get(cohort_url(cast)).context["dashboard"].headline.open_alerts
    follow_up(client, cast)
    after = client.get(cohort_url(cast)).context["dashboard"].headline.open_alerts
    assert (before, after) == (3, 2)


def test_a_followed_up_alert_stays_listed_once_it_is_no_longer_raised(client, cast):
    waves = add_waves(cast.cohort, 1, open_last=True)
    DyadWaveResult.objects.bulk_create([result(cast.dyad, waves[0], "unplaced")])
    client.force_login(cast.coordinator)
    follow_up(client, cast, reason="partner_missing", note="Phoned the protégé.", wave=1)
    DyadWaveResult.objects.filter(dyad=cast.dyad).update(protege_submitted=True)
    followed = client.get(cohort_url(cast, "alerts/?show=followed"))
    rows = followed.context["page"].object_list
    assert [(row["code"], row["note"], row["open"]) for row in rows] == [
        (cast.dyad.research_code, "Phoned the protégé.", False)
    ]
    open_codes = {
        row["code"] for row in client.get(cohort_url(cast, "alerts/")).context["page"].object_list
    }
    assert open_codes == {cast.other_dyad.research_code}


def test_an_alert_is_followed_up_once(client, cast, declining):
    client.force_login(cast.coordinator)
    follow_up(client, cast)
    second = follow_up(client, cast, note="Again")
    assert "already been followed up" in " ".join(messages_of(second))
    assert AlertFollowUp.objects.count() == 1


def test_only_raised_alerts_can_be_followed_up(client, cast, declining):
    client.force_login(cast.coordinator)
    response = follow_up(client, cast, reason="strain_reported")
    assert "not raised" in " ".join(messages_of(response))
    assert not AlertFollowUp.objects.exists()


def test_a_follow_up_needs_a_note(client, cast, declining):
    client.force_login(cast.coordinator)
    response = follow_up(client, cast, note="   ")
    assert messages_of(response) and not AlertFollowUp.objects.exists()


def test_a_follow_up_returns_to_the_page_it_came_from_but_never_off_site(client, cast, declining):
    client.force_login(cast.coordinator)
    data = {"dyad": cast.dyad.research_code, "wave": 2, "reason": "dysfunctional", "note": "ok"}
    back = cohort_url(cast, f"dyads/{cast.dyad.research_code}/")
    assert client.post(cohort_url(cast, "alerts/follow-up/"), {**data, "next": back}).url == back
    data["reason"] = "reliable_decline"
    evil = client.post(
        cohort_url(cast, "alerts/follow-up/"), {**data, "next": "https://evil.test/"}
    )
    assert evil.url == cohort_url(cast, "alerts/")


def test_another_programs_coordinator_cannot_follow_up(client, cast, declining):
    client.force_login(cast.other_coordinator)
    assert follow_up(client, cast).status_code == 404
    assert not AlertFollowUp.objects.exists()


def test_actions_are_refused_without_the_csrf_token(cast, declining):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.coordinator)
    assert follow_up(client, cast).status_code == 403
    remind = cohort_url(cast, f"dyads/{cast.dyad.research_code}/remind/")
    assert client.post(remind, {"wave": 2, "role": "mentor"}).status_code == 403


def test_actions_accept_only_post(client, cast, declining):
    client.force_login(cast.coordinator)
    assert client.get(cohort_url(cast, "alerts/follow-up/")).status_code == 405
    assert client.get(cohort_url(cast, f"dyads/{cast.dyad.research_code}/end/")).status_code == 405


# --- reminders -----------------------------------------------------------------------------


@pytest.fixture
def mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core import mail as django_mail

    return django_mail


@pytest.fixture
def open_wave(cast):
    waves = add_waves(cast.cohort, 1, open_last=True)
    Response.objects.create(
        wave=waves[0],
        dyad=cast.dyad,
        respondent=cast.mentor,
        role="mentor",
        status="submitted",
        submitted_at=timezone.now(),
    )
    return waves[0]


def test_the_dyad_page_offers_to_remind_only_the_partner_who_has_not_submitted(
    client, cast, open_wave
):
    client.force_login(cast.coordinator)
    detail = client.get(cohort_url(cast, f"dyads/{cast.dyad.research_code}/")).context["detail"]
    assert [(item["role"], item["person"]) for item in detail.remindable] == [
        ("protege", cast.protege)
    ]


def test_remind_sends_one_reminder_to_that_partner(client, cast, open_wave, mail):
    client.force_login(cast.coordinator)
    url = cohort_url(cast, f"dyads/{cast.dyad.research_code}/remind/")
    response = client.post(url, {"wave": open_wave.number, "role": "protege"})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[cast.protege.email]]
    assert mail.outbox[0].subject.startswith("Reminder")


def test_no_reminder_goes_to_a_partner_who_has_submitted(client, cast, open_wave, mail):
    client.force_login(cast.coordinator)
    url = cohort_url(cast, f"dyads/{cast.dyad.research_code}/remind/")
    response = client.post(url, {"wave": open_wave.number, "role": "mentor"})
    assert "already submitted" in " ".join(messages_of(response))
    assert mail.outbox == []


def test_no_reminder_goes_out_for_a_closed_wave(client, cast, declining, mail):
    client.force_login(cast.coordinator)
    url = cohort_url(cast, f"dyads/{cast.dyad.research_code}/remind/")
    client.post(url, {"wave": 1, "role": "mentor"})
    assert mail.outbox == []


def test_wave_buttons_send_invitations_and_reminders(client, cast, open_wave, mail):
    client.force_login(cast.coordinator)
    client.post(cohort_url(cast, f"manage/waves/{open_wave.number}/invite/"))
    invited = sorted(m.to[0] for m in mail.outbox)
    mail.outbox.clear()
    client.post(cohort_url(cast, f"manage/waves/{open_wave.number}/remind/"))
    reminded = sorted(m.to[0] for m in mail.outbox)
    # the mentor has submitted already: no "it is time for the survey" email
    assert len(invited) == 3 and cast.mentor.email not in invited
    assert cast.mentor.email not in reminded and cast.protege.email in reminded


# --- management ----------------------------------------------------------------------------


def test_a_coordinator_creates_a_cohort_in_their_program(client, cast):
    client.force_login(cast.coordinator)
    response = client.post(
        f"/coordinate/{cast.program.slug}/cohorts/new/",
        {"name": "Autumn 2027", "slug": "", "started_on": "2027-09-01"},
    )
    cohort = Cohort.objects.get(program=cast.program, slug="autumn-2027")
    assert response.url == f"/coordinate/{cast.program.slug}/autumn-2027/manage/"
    assert cohort.started_on == dt.date(2027, 9, 1)


def test_a_cohort_slug_is_unique_in_its_program(client, cast):
    client.force_login(cast.coordinator)
    response = client.post(
        f"/coordinate/{cast.program.slug}/cohorts/new/",
        {"name": "Again", "slug": cast.cohort.slug, "started_on": "2027-09-01"},
    )
    assert response.status_code == 200 and "already has a cohort" in response.content.decode()


def test_another_programs_coordinator_cannot_create_cohorts_here(client, cast):
    client.force_login(cast.other_coordinator)
    url = f"/coordinate/{cast.program.slug}/cohorts/new/"
    assert client.post(url, {"name": "X", "started_on": "2027-09-01"}).status_code == 404
    assert not Cohort.objects.filter(name="X").exists()


def wave_form(instrument, opens="2027-01-10T09:00", closes="2027-02-10T17:00", label=""):
    return {"label": label, "opens_at": opens, "closes_at": closes, "instrument": instrument.pk}


def test_scheduling_waves_numbers_them_in_order(client, cast):
    instrument = factories.InstrumentFactory()
    client.force_login(cast.coordinator)
    client.post(cohort_url(cast, "manage/waves/new/"), wave_form(instrument))
    client.post(cohort_url(cast, "manage/waves/new/"), wave_form(instrument, label="Check-in"))
    waves = list(cast.cohort.waves.order_by("number").values_list("number", "label", "instrument"))
    assert waves == [(1, "", instrument.pk), (2, "Check-in", instrument.pk)]


def test_a_wave_must_close_after_it_opens(client, cast):
    client.force_login(cast.coordinator)
    response = client.post(
        cohort_url(cast, "manage/waves/new/"),
        wave_form(
            factories.InstrumentFactory(), opens="2027-02-10T09:00", closes="2027-01-10T09:00"
        ),
    )
    assert "must close after it opens" in response.content.decode()
    assert not Wave.objects.exists()


def test_a_wave_can_be_rescheduled_but_keeps_its_answered_instrument(client, cast, declining):
    client.force_login(cast.coordinator)
    other = factories.InstrumentFactory()
    url = cohort_url(cast, "manage/waves/2/")
    response = client.post(url, wave_form(other, closes="2030-01-01T00:00"))
    assert "its instrument stays" in response.content.decode()
    same = declining[1].instrument
    client.post(url, wave_form(same, opens="2026-01-01T00:00", closes="2030-01-01T00:00"))
    declining[1].refresh_from_db()
    assert declining[1].closes_at.year == 2030 and declining[1].instrument == same


def dyad_form(**overrides) -> dict:
    return {
        "mentor_name": "Ada Mentor",
        "mentor_email": "Ada@Example.org",
        "protege_name": "Bo Protege",
        "protege_email": "bo@example.org",
        "kind": "informal",
        "supervisory": "on",
        "started_on": "2026-03-01",
        **overrides,
    }


def test_adding_a_dyad_creates_people_without_passwords(client, cast):
    client.force_login(cast.coordinator)
    response = client.post(cohort_url(cast, "manage/dyads/new/"), dyad_form())
    dyad = Dyad.objects.get(mentor__user__email="ada@example.org")
    assert response.url == cohort_url(cast, f"dyads/{dyad.research_code}/")
    assert (dyad.kind, dyad.supervisory, dyad.started_on) == ("informal", True, dt.date(2026, 3, 1))
    assert not User.objects.get(email="bo@example.org").has_usable_password()
    assert dyad.protege.name == "Bo Protege"


def test_adding_an_existing_active_pair_again_is_refused(client, cast):
    client.force_login(cast.coordinator)
    client.post(cohort_url(cast, "manage/dyads/new/"), dyad_form())
    response = client.post(cohort_url(cast, "manage/dyads/new/"), dyad_form())
    assert "already has an active dyad" in response.content.decode()
    assert Dyad.objects.filter(mentor__user__email="ada@example.org").count() == 1


def test_ending_a_dyad_keeps_its_history(client, cast, declining):
    client.force_login(cast.coordinator)
    url = cohort_url(cast, f"dyads/{cast.dyad.research_code}/end/")
    client.post(url, {"ended_on": timezone.localdate().isoformat()})
    cast.dyad.refresh_from_db()
    assert not cast.dyad.is_active and cast.dyad.ended_on == timezone.localdate()
    assert DyadWaveResult.objects.filter(dyad=cast.dyad).count() == 2


def test_a_dyad_cannot_end_before_it_started(client, cast):
    client.force_login(cast.coordinator)
    url = cohort_url(cast, f"dyads/{cast.dyad.research_code}/end/")
    response = client.post(url, {"ended_on": "1999-01-01"})
    assert "cannot end before it starts" in " ".join(messages_of(response))
    cast.dyad.refresh_from_db()
    assert cast.dyad.is_active


def test_the_management_page_counts_invitations_and_submissions(client, cast, declining):
    client.force_login(cast.coordinator)
    waves = client.get(cohort_url(cast, "manage/")).context["waves"]
    assert [(w.number, w.submitted, w.invited, w.closed) for w in waves] == [
        (1, 0, 0, True),
        (2, 2, 0, True),
    ]
    assert Instrument.objects.filter(pk=waves[0].instrument_id).exists()
