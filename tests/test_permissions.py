"""Who may open what (DESIGN §7): every URL of the project, visited by every persona.

The URL list comes from the resolver, so a new URL without a row here fails the test.
Statuses: 200 page, 302 redirect (to sign-in for anonymous visitors, or onwards),
404 hidden, 405 wrong method (the endpoint only takes POST; nothing is shown).

"staff" is an account with ``is_staff`` and no permission or participant record: staff
status alone opens nothing but the admin index (DESIGN §7).
"""

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from assessments.models import Wave
from delivery.models import DeliveryBatch
from jobs.models import Job, JobFilePart
from relationships.models import User

PERSONAS = (
    "anonymous", "mentor", "protege", "outsider", "coordinator", "other_coord", "staff", "admin",
)  # fmt: skip
ALL = dict.fromkeys(PERSONAS, 200)
SIGNED_IN = {**ALL, "anonymous": 302}
OWN = {
    "anonymous": 302,
    "mentor": 200,
    "protege": 200,
    "outsider": 404,
    "coordinator": 404,
    "other_coord": 404,
    "staff": 404,
    "admin": 404,
}
OWN_REDIRECT = {**OWN, "mentor": 302, "protege": 302}
RESULTS = {**OWN, "admin": 200}
COORDINATE = {
    "anonymous": 302,
    "mentor": 404,
    "protege": 404,
    "outsider": 404,
    "coordinator": 200,
    "other_coord": 404,
    "staff": 404,
    "admin": 200,
}
# Management pages refuse whoever coordinates nothing outright (403); other programs stay
# hidden (404).
MANAGE = {**COORDINATE, "mentor": 403, "protege": 403, "outsider": 403, "staff": 403}
POST_ONLY = {**dict.fromkeys(PERSONAS, 405), "anonymous": 302}
NO_PARTICIPANT = {
    **SIGNED_IN,
    **dict.fromkeys(("coordinator", "other_coord", "staff", "admin"), 404),
}

EXPECTED = {
    "home": ALL,
    "healthz": ALL,
    "login": ALL,
    "logout": {**dict.fromkeys(PERSONAS, 405)},
    "set_language": dict.fromkeys(PERSONAS, 405),  # POST only, from the switcher
    "password_change": SIGNED_IN,
    "password_reset": ALL,
    "password_reset_done": ALL,
    "password_reset_confirm": ALL,
    "landing": dict.fromkeys(PERSONAS, 302),  # on to where each person works, or sign-in
    "signin_link": ALL,
    "signin_link_sent": ALL,
    "signin_link_use": dict.fromkeys(PERSONAS, 410),  # a made-up link
    "password_reset_complete": ALL,
    "assessments:home": SIGNED_IN,
    "assessments:survey": OWN_REDIRECT,
    "assessments:survey_page": {**OWN, "admin": 200},  # with view_answers, read-only
    "assessments:survey_autosave": POST_ONLY,
    "assessments:survey_review": OWN,
    "assessments:results": RESULTS,
    "assessments:magic_link": dict.fromkeys(PERSONAS, 400),
    # own data: any signed-in participant; accounts without a participant record get 404
    "assessments:my_data": NO_PARTICIPANT,
    "assessments:my_data_json": NO_PARTICIPANT,
    "assessments:my_data_csv": NO_PARTICIPANT,
    "coordinate:programs": {**COORDINATE, "other_coord": 200},
    "coordinate:program": COORDINATE,
    "coordinate:cohort_create": MANAGE,
    "coordinate:program_languages": MANAGE,
    "coordinate:cohort": COORDINATE,
    "coordinate:alerts": COORDINATE,
    "coordinate:alert_follow_up": POST_ONLY,
    "coordinate:psychometrics": COORDINATE,
    "coordinate:dyad_list": COORDINATE,
    "coordinate:report": COORDINATE,
    "coordinate:manage": MANAGE,
    "coordinate:wave_create": MANAGE,
    "coordinate:wave_edit": MANAGE,
    "coordinate:wave_invite": POST_ONLY,
    "coordinate:wave_remind": POST_ONLY,
    "coordinate:dyad_create": MANAGE,
    "coordinate:dyad_import": MANAGE,
    "coordinate:dyad": COORDINATE,
    "coordinate:dyad_remind": POST_ONLY,
    "coordinate:dyad_end": POST_ONLY,
    "coordinate:wave_send_confirm": MANAGE,
    "coordinate:send_progress": MANAGE,
    "coordinate:send_progress_json": MANAGE,
    "coordinate:message_templates": MANAGE,
    "coordinate:message_template": MANAGE,
    "coordinate:message_template_test": POST_ONLY,
    "coordinate:delivery_schedule": MANAGE,
    "coordinate:notification_preference": MANAGE,
    "coordinate:failed_deliveries": MANAGE,
    "coordinate:delivery_retry": POST_ONLY,
    "exports:index": {**dict.fromkeys(PERSONAS, 403), "anonymous": 302, "admin": 200},
    "exports:guide": {**dict.fromkeys(PERSONAS, 403), "anonymous": 302, "admin": 200},
    # a job is its owner's alone: the coordinator's import, the admin's zip
    "jobs:job": {**dict.fromkeys(PERSONAS, 404), "anonymous": 302, "coordinator": 200},
    "jobs:progress": {**dict.fromkeys(PERSONAS, 404), "anonymous": 302, "coordinator": 200},
    "jobs:file": {**dict.fromkeys(PERSONAS, 404), "anonymous": 302, "admin": 200},
}


def project_urls(patterns=None, namespace=None):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue
            yield from project_urls(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_url_of_the_project_has_a_row():
    assert sorted(project_urls()) == sorted(EXPECTED)


def user_of(persona: str, world) -> User | None:
    emails = {
        "mentor": "mentor@example.org",
        "protege": "protege@example.org",
        "coordinator": "coordinator@example.org",
        "admin": "admin@example.org",
    }
    if persona in emails:
        return User.objects.get(email=emails[persona])
    if persona == "staff":
        return staff_user()
    return world.get(persona)


def staff_user() -> User:
    """An account with staff status and nothing else: no permission, group or participant."""
    user, _ = User.objects.get_or_create(email="staff@example.org", defaults={"is_staff": True})
    return user


def send_batch(wave: Wave) -> DeliveryBatch:
    """A send of the demo cohort's first wave, for its progress pages."""
    found, _ = DeliveryBatch.objects.get_or_create(wave=wave, audience="not_invited")
    return found


def finished_job(owner_email: str, kind: str) -> Job:
    """A finished job of ``owner_email``'s, with a file of one part."""
    owner = User.objects.get(email=owner_email)
    job, created = Job.objects.get_or_create(
        owner=owner, kind=kind,
        defaults={"title": kind, "status": Job.Status.DONE, "file_name": "f.zip",
                  "file_type": "application/zip", "file_size": 2},
    )  # fmt: skip
    if created:
        JobFilePart.objects.create(job=job, number=0, data=b"PK")
    return job


def url_for(name: str, world) -> str:
    dyad = world["dyad"]
    wave = Wave.objects.get(cohort=dyad.cohort, number=1)
    own = {"code": dyad.research_code, "wave": 1}
    where = {"program": "demo", "cohort": "2026"}
    kwargs = {
        "password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
        "signin_link_use": {"uidb64": "MQ", "token": "made-up-token"},
        "assessments:survey": {**own, "wave": 2},
        "assessments:survey_page": {**own, "wave": 2, "page": 1},
        "assessments:survey_autosave": {**own, "wave": 2},
        "assessments:survey_review": {**own, "wave": 2},
        "assessments:results": own,
        "assessments:magic_link": {"token": "not-a-real-token"},
        "coordinate:program": {"program": "demo"},
        "coordinate:cohort_create": {"program": "demo"},
        "coordinate:program_languages": {"program": "demo"},
        "coordinate:wave_edit": {**where, "number": wave.number},
        "coordinate:wave_invite": {**where, "number": 2},
        "coordinate:wave_remind": {**where, "number": 2},
        "coordinate:dyad": {**where, "code": dyad.research_code},
        "coordinate:dyad_remind": {**where, "code": dyad.research_code},
        "coordinate:dyad_end": {**where, "code": dyad.research_code},
        "coordinate:wave_send_confirm": {**where, "number": 2},
        "coordinate:send_progress": {**where, "batch": send_batch(wave).pk},
        "coordinate:send_progress_json": {**where, "batch": send_batch(wave).pk},
        "coordinate:message_templates": {"program": "demo"},
        "coordinate:delivery_schedule": {"program": "demo"},
        "coordinate:notification_preference": {"program": "demo"},
        "coordinate:failed_deliveries": {"program": "demo"},
        "coordinate:message_template": {"program": "demo", "kind": "invitation"},
        "coordinate:message_template_test": {"program": "demo", "kind": "invitation"},
        "coordinate:delivery_retry": {"program": "demo", "delivery": 1},
        "jobs:job": {"job": finished_job("coordinator@example.org", "dyads.import").pk},
        "jobs:progress": {"job": finished_job("coordinator@example.org", "dyads.import").pk},
        "jobs:file": {"job": finished_job("admin@example.org", "cohort.archive").pk},
    }.get(name)
    if kwargs is None and name.startswith("coordinate:") and name != "coordinate:programs":
        kwargs = where
    return reverse(name, kwargs=kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_persona_gets_the_designed_status(client, world, name, persona):
    user = user_of(persona, world)
    if user is not None:
        client.force_login(user)
    response = client.get(url_for(name, world))
    assert response.status_code == EXPECTED[name][persona]
    if response.status_code == 302 and persona == "anonymous":
        assert response.url.startswith("/accounts/login/")


def admin_pages() -> list[str]:
    """The list, add and autocomplete pages of every model registered in the admin."""
    pages = []
    for model in admin.site._registry:
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    return pages


@pytest.mark.django_db
def test_staff_status_alone_opens_the_admin_index_and_nothing_in_it(client, world):
    client.force_login(staff_user())
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "permission to view or edit anything" in index.text
    apps = {model._meta.app_label for model in admin.site._registry}
    assert [app for app in apps if f'href="/admin/{app}/' in index.text] == []
    assert [page for page in admin_pages() if client.get(page).status_code != 403] == []
    dyad = world["dyad"]
    for model, pk in (("assessments/response", dyad.responses.first().pk),
                      ("relationships/dyad", dyad.pk),
                      ("relationships/participant", dyad.mentor_id)):  # fmt: skip
        assert client.get(f"/admin/{model}/{pk}/change/").status_code == 403
    found = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "relationships", "model_name": "dyad", "field_name": "mentor", "term": "a"},
    )
    assert found.status_code == 403
