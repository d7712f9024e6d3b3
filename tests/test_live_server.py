"""Against a real gunicorn: 50 submissions at one moment, and a server killed mid-survey.

DESIGN §1 promises nothing is lost: every answer stored once, every dyad scored once
with the final answers, autosaved answers still there after a crash.
"""

import re
import tempfile
import threading
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from assessments.models import Answer, DyadWaveResult, Item, Response, Wave
from assessments.services import results_recompute
from assessments.survey.services import answers_save, response_open
from relationships.models import Dyad
from tests.live import CSRF_FIELD, Client, Server, manage, server_env, session_cookies

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="many writers at once need PostgreSQL"
)
RESULT_FIELDS = ["state", "position", "rel_mentor", "rel_protege", "rel_dyad", "car_dyad",
                 "psy_dyad", "str_dyad", "mentor_submitted", "protege_submitted"]  # fmt: skip


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def drafts_ready_to_submit(dyads: int) -> tuple[Wave, list[tuple[Dyad, str, object]]]:
    """``dyads`` dyads whose open wave holds a complete draft from both partners."""
    from django.core.management import call_command

    call_command("seed_demo", "--dyads", str(dyads), "--waves", "2", verbosity=0)
    wave = Wave.objects.get(cohort__program__slug="demo", number=2)
    Response.objects.filter(wave=wave).delete()
    DyadWaveResult.objects.filter(wave=wave).delete()
    items = Item.objects.filter(subscale__battery__instrument=wave.instrument)
    items = list(items.select_related("subscale__battery"))
    people = []
    for index, dyad in enumerate(Dyad.objects.filter(cohort=wave.cohort).order_by("pk")):
        for role, person in (("mentor", dyad.mentor), ("protege", dyad.protege)):
            response = response_open(dyad=dyad, wave=wave, participant=person)
            offset = index + len(role)  # different answers per person, inside every scale
            values = {
                item.code: str(item.subscale.battery.scale_min + offset % 5) for item in items
            }
            answers_save(response=response, values=values)
            people.append((dyad, role, person.user))
    return wave, people


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_submissions_each_count_once_and_score_with_the_final_answers():
    wave, people = drafts_ready_to_submit(25)
    assert len(people) == 50
    server = Server(server_env(DATABASE_URL=database_url()), workers=2, threads=16)
    try:
        clients = [Client(server.port, session_cookies(user)) for _, _, user in people]
        start, statuses = threading.Barrier(len(people)), [None] * len(people)

        def submit(index: int) -> None:
            dyad, _, _ = people[index]
            client = clients[index]
            path = f"/me/survey/{dyad.research_code}/2/submit/"
            start.wait()
            reply = client.post(path, {}, client.cookies["csrftoken"])
            statuses[index] = (reply.status, reply.headers.get("location", ""))

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(people))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        server.stop()
    assert all(s and s[0] == 302 and "/me/results/" in s[1] for s in statuses), statuses
    items = Item.objects.filter(subscale__battery__instrument=wave.instrument).count()
    responses = Response.objects.filter(wave=wave)
    assert responses.count() == 50 and not responses.exclude(status="submitted").exists()
    for response in responses:
        assert Answer.objects.filter(response=response).count() == items
    stored = list(DyadWaveResult.objects.filter(wave=wave).order_by("dyad").values(*RESULT_FIELDS))
    assert len(stored) == 25 and all(
        r["mentor_submitted"] and r["protege_submitted"] for r in stored
    )
    results_recompute(cohort=wave.cohort)  # from the final answers, in this process
    again = list(DyadWaveResult.objects.filter(wave=wave).order_by("dyad").values(*RESULT_FIELDS))
    assert again == stored


@pytest.fixture
def own_database():
    """A database the test and two server lives share: a file for SQLite, a fresh
    PostgreSQL database (dropped afterwards) otherwise."""
    if connection.vendor != "postgresql":
        with tempfile.TemporaryDirectory() as folder:
            yield {"SQLITE_PATH": str(Path(folder) / "continuum.sqlite3")}
        return
    name = f"continuum_live_{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    admin = psycopg2.connect(dbname="postgres", user=db["USER"], host=db["HOST"] or "127.0.0.1",
                             port=db["PORT"] or 5432)  # fmt: skip
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    try:
        yield {"DATABASE_URL": database_url().rsplit("/", 1)[0] + f"/{name}"}
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


CHECKED = re.compile(r'name="([A-Z]+-[A-Z0-9-]+)" value="(\d|na)"[^>]*checked')


def test_answers_autosaved_before_the_server_is_killed_are_there_after_restart(own_database):
    env = server_env(**own_database)
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--dyads", "3", "--waves", "2")
    server = Server(env)
    try:
        client = Client(server.port)
        client.sign_in("mentor@example.org", "continuum-demo")
        code = re.search(r'href="/me/survey/(D-[A-Z0-9]+)/2/"', client.get("/me/").body).group(1)
        page = client.get(f"/me/survey/{code}/2/page/1/")
        token = client.token(page)
        names = list(dict.fromkeys(re.findall(r'name="(REL-[A-Z]+-\d)"', page.body)))
        saved = {name: str(1 + i % 7) for i, name in enumerate(names[:7])}
        for name, value in saved.items():
            reply = client.post(f"/me/survey/{code}/2/autosave/", {name: value}, token)
            assert reply.status == 200 and '"saved": 1' in reply.body
        # one more answer on its way while the server dies: it may or may not arrive
        late = Client(server.port, client.cookies)
        in_flight = threading.Thread(
            target=lambda: _quietly(
                late.post, f"/me/survey/{code}/2/autosave/", {names[7]: "4"}, token
            )  # fmt: skip
        )
        in_flight.start()
        server.kill()
        in_flight.join(timeout=30)
    finally:
        server.stop()
    server = Server(env)
    try:
        client = Client(server.port)
        client.sign_in("mentor@example.org", "continuum-demo")
        page = client.get(f"/me/survey/{code}/2/page/1/")
        checked = dict(CHECKED.findall(page.body))
        assert {k: v for k, v in checked.items() if k in saved} == saved
        resume = client.get(f"/me/survey/{code}/2/")
        assert resume.status == 302 and resume.headers["location"].endswith("/page/1/")
        assert CSRF_FIELD.search(page.body)
    finally:
        server.stop()


def _quietly(function, *args) -> None:
    try:
        function(*args)
    except OSError:  # the connection died with the server, as it should
        pass
