"""Running past one machine: commands without a secret, request ids in JSON logs, error
reports, gunicorn's settings and the process files (docs/deployment.md)."""

import ast
import http.client
import io
import json
import logging
import os
import re
import runpy
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import ManagementUtility, get_commands
from django.http import StreamingHttpResponse
from django.test import Client, RequestFactory

from mentoring_site import request_id, startup
from mentoring_site.logs import JsonFormatter
from mentoring_site.middleware import RequestIdMiddleware
from mentoring_site.sentry import event_scrubbed
from mentoring_site.settings import env_admins
from tests.live import Client as LiveClient
from tests.live import free_port, server_env
from tests.live import manage as live_manage

ROOT = Path(__file__).resolve().parent.parent
# Variables the test run sets for itself, which a production environment never has.
DROPPED = {"SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECURE_SSL_REDIRECT"}
SECRET = "k" * 20 + "production-like-secret-with-enough-entropy-9x"


def run(*command: str, **env: str) -> subprocess.CompletedProcess:
    """``command`` in a production-like environment: no test secret, no DEBUG, and
    SQLite (a temporary file where a test gives ``SQLITE_PATH``), never the test run's
    PostgreSQL database."""
    base = {k: v for k, v in os.environ.items() if k not in DROPPED}
    base["DATABASE_URL"] = ""
    return subprocess.run(
        list(command), cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run(sys.executable, "manage.py", *args, **env)


# --- commands with and without SECRET_KEY --------------------------------------------


@pytest.mark.parametrize(
    "args", [["help"], [], ["--version"], ["send_invitations", "--help"]], ids=str
)
def test_help_runs_without_a_secret_outside_debug(args):
    done = manage(*args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "SECRET_KEY" not in done.stderr
    assert done.stdout.strip()


def test_release_steps_run_without_a_secret(tmp_path):
    database = {"SQLITE_PATH": str(tmp_path / "release.sqlite3")}
    migrated = manage("migrate", "--noinput", **database)
    assert migrated.returncode == 0, migrated.stderr
    admin = manage(
        "createsuperuser",
        "--noinput",
        **database,
        DJANGO_SUPERUSER_EMAIL="ops@example.org",
        DJANGO_SUPERUSER_PASSWORD="a long enough password 42",
    )
    assert admin.returncode == 0, admin.stderr
    static = manage("collectstatic", "--noinput", "--dry-run", **database)
    assert static.returncode == 0, static.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["send_invitations", "--wave", "1"],
        ["runserver"],
        ["check", "--deploy"],
        ["db_worker"],
        ["shell", "-c", "print(1)"],
    ],
    ids=lambda args: args[0],
)
def test_a_command_that_needs_the_secret_says_so_in_one_line_and_exits_2(args):
    done = manage(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"manage.py {args[0]}: SECRET_KEY must be set when DEBUG is off "
        "(docs/deployment.md, Environment)."
    ]


def test_a_malformed_variable_is_one_line_too():
    done = manage("check", SECRET_KEY=SECRET, DEBUG="maybe")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "manage.py: DEBUG must be a boolean (1/0, true/false), got 'maybe'"
    ]


def test_every_command_allowed_without_a_secret_exists():
    builtin = {"help", "version"}  # ManagementUtility answers these itself
    assert startup.COMMANDS_WITHOUT_SECRET - set(get_commands()) - builtin == set()


def test_commands_outside_the_list_need_the_secret():
    assert startup.needs_secret(["manage.py", "delivery_schedule", "--loop"])
    assert startup.needs_secret(["manage.py", "some_future_command"])
    assert not startup.needs_secret(["manage.py", "migrate", "--noinput"])
    assert not startup.needs_secret(["manage.py"])


# --- request ids and JSON logs -------------------------------------------------------


@contextmanager
def console_copy(logger: logging.Logger):
    """What the console handler writes for ``logger``'s records, as parsed JSON objects:
    a second handler with the console's own formatter and filters."""
    console = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    assert isinstance(console.formatter, JsonFormatter)
    stream = io.StringIO()
    probe = logging.StreamHandler(stream)
    probe.setFormatter(console.formatter)
    for each in console.filters:
        probe.addFilter(each)
    logger.addHandler(probe)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(probe)


@pytest.fixture
def json_lines():
    with console_copy(logging.getLogger()) as lines:
        yield lines


def test_the_proxys_request_id_round_trips_and_is_in_the_json_log_line(client, db, json_lines):
    response = client.get("/no/such/page/", HTTP_X_REQUEST_ID="req-42.abc")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-42.abc"
    [line] = [line for line in json_lines() if line["logger"] == "django.request"]
    assert line["request_id"] == "req-42.abc"
    assert line["level"] == "WARNING" and line["message"] == "Not Found: /no/such/page/"
    assert line["status_code"] == 404 and "request" not in line
    assert request_id.current() is None


@pytest.mark.parametrize("sent", ["", "a b", "x" * 101, "<script>", "-leading-dash"])
def test_a_missing_or_odd_request_id_is_replaced_by_a_fresh_one(client, db, sent):
    response = client.get("/", HTTP_X_REQUEST_ID=sent)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_a_streamed_response_logs_with_its_request_id_until_it_is_closed(db, json_lines):
    def rows():
        logging.getLogger("continuum.export").warning("row written")
        yield b"a,b\r\n"

    middleware = RequestIdMiddleware(lambda request: StreamingHttpResponse(rows()))
    response = middleware(RequestFactory().get("/exports/", HTTP_X_REQUEST_ID="stream-1"))
    assert b"".join(response.streaming_content) == b"a,b\r\n"
    response.close()
    [line] = [line for line in json_lines() if line["logger"] == "continuum.export"]
    assert line["request_id"] == "stream-1"
    assert request_id.current() is None


def test_a_task_carries_the_request_id_it_was_given(json_lines):
    with request_id.bound("req-7") as bound:
        logging.getLogger("delivery").warning("sent")
        assert bound == request_id.current() == "req-7"
    with request_id.bound(None) as fresh:
        logging.getLogger("delivery").warning("scheduled")
    assert request_id.current() is None
    sent, scheduled = [line for line in json_lines() if line["logger"] == "delivery"]
    assert sent["request_id"] == "req-7"
    assert scheduled["request_id"] == fresh and re.fullmatch(r"[0-9a-f]{32}", fresh)


def test_a_json_line_holds_the_exception_on_one_line(json_lines):
    try:
        raise ValueError("bad row")
    except ValueError:
        logging.getLogger("continuum").exception("export failed", extra={"rows": 3})
    [line] = [line for line in json_lines() if line["logger"] == "continuum"]
    assert line["level"] == "ERROR" and line["rows"] == 3 and line["request_id"] == "-"
    assert "ValueError: bad row" in line["exception"]


def test_json_is_the_default_log_format_outside_debug_and_text_can_be_chosen():
    probe = "from django.conf import settings; print(settings.LOGGING['handlers']['console'])"
    json_default = manage("shell", "-c", probe, SECRET_KEY=SECRET)
    text_chosen = manage("shell", "-c", probe, SECRET_KEY=SECRET, LOG_FORMAT="text")
    in_debug = manage("shell", "-c", probe, DEBUG="1")
    assert "'formatter': 'json'" in json_default.stdout, json_default.stderr
    assert "'formatter': 'text'" in text_chosen.stdout
    assert "'formatter': 'text'" in in_debug.stdout
    wrong = manage("check", SECRET_KEY=SECRET, LOG_FORMAT="xml")
    assert wrong.returncode == 2 and "LOG_FORMAT must be one of json, text" in wrong.stderr


# --- error reports -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "admins"),
    [
        ("", []),
        ("Name <a@x.org>,b@y.org", [("Name", "a@x.org"), ("b@y.org", "b@y.org")]),
        (
            '"Doe, Jane" <j@x.org>, ops@localhost',
            [("Doe, Jane", "j@x.org"), ("ops@localhost", "ops@localhost")],
        ),
    ],
)
def test_admins_are_read_from_the_environment(monkeypatch, raw, admins):
    monkeypatch.setenv("ADMINS", raw)
    assert env_admins("ADMINS") == admins


@pytest.mark.parametrize("raw", ["nonsense", "a@x.org b@y.org", "Name <a@x.org> junk"])
def test_malformed_admins_are_refused_by_name(monkeypatch, raw):
    monkeypatch.setenv("ADMINS", raw)
    with pytest.raises(ImproperlyConfigured, match="ADMINS must be comma-separated"):
        env_admins("ADMINS")


@pytest.mark.urls("tests.error_urls")
def test_a_server_error_is_mailed_to_the_admins_without_the_posted_values(db, settings):
    settings.ADMINS = [("Ops", "ops@example.org")]
    client = Client(raise_request_exception=False)
    response = client.post("/broken/", {"REL1": "confidential-answer-4"})
    assert response.status_code == 500
    [report] = mail.outbox
    assert report.to == ["ops@example.org"] and report.subject.startswith("[Continuum] ")
    assert "REL1" in report.body and "confidential-answer-4" not in report.body


def test_a_wrong_host_header_is_logged_but_not_mailed(client, db, settings):
    settings.ADMINS = [("Ops", "ops@example.org")]
    with console_copy(logging.getLogger("django.security.DisallowedHost")) as lines:
        assert client.get("/", HTTP_HOST="scanner.example").status_code == 400
    assert mail.outbox == []
    [line] = lines()
    assert line["level"] == "ERROR" and "scanner.example" in line["message"]


def test_sentry_starts_only_with_a_dsn_and_sends_nothing_personal():
    probe = (
        "import sentry_sdk; c = sentry_sdk.get_client(); o = c.options; "
        "print(c.is_active(), o['send_default_pii'], o['max_request_body_size'], "
        "o['include_local_variables'], 'django' in c.integrations)"
    )
    without = manage("shell", "-c", probe, SECRET_KEY=SECRET)
    assert without.stdout.splitlines()[-1].split()[0] == "False", without.stderr
    dsn = "https://public@127.0.0.1:9/1"
    started = manage("shell", "-c", probe, SECRET_KEY=SECRET, SENTRY_DSN=dsn)
    assert started.stdout.splitlines()[-1].split() == ["True", "False", "never", "False", "True"], (
        started.stderr
    )


def test_a_sentry_event_keeps_only_the_method_and_gains_the_request_id():
    event = {
        "request": {
            "method": "POST",
            "url": "https://continuum.example.org/invite/secret-token/",
            "data": {"REL1": "4"},
            "cookies": {"sessionid": "abc"},
        }
    }
    with request_id.bound("r-5"):
        scrubbed = event_scrubbed(event, {})
    assert scrubbed["request"] == {"method": "POST"}
    assert scrubbed["tags"] == {"request_id": "r-5"}


# --- gunicorn, Procfile, systemd units, environment ----------------------------------

GUNICORN_VARIABLES = (
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_BIND",
    "PORT",
)


def gunicorn_settings(monkeypatch, **env: str) -> dict:
    for name in GUNICORN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_settings_are_sane(monkeypatch):
    conf = gunicorn_settings(monkeypatch)
    assert conf["worker_class"] == "gthread"
    assert conf["workers"] >= 2 and conf["threads"] >= 2
    assert conf["wsgi_app"] == "mentoring_site.wsgi:application"
    assert conf["timeout"] >= 30 and conf["graceful_timeout"] >= conf["timeout"]
    assert conf["accesslog"] == "-" and "%({x-request-id}o)s" in conf["access_log_format"]
    unit = (ROOT / "deploy/continuum-web.service").read_text()
    stop = int(re.search(r"^TimeoutStopSec=(\d+)$", unit, re.M).group(1))
    assert stop > conf["graceful_timeout"]


def test_gunicorn_settings_follow_the_environment(monkeypatch):
    conf = gunicorn_settings(monkeypatch, WEB_CONCURRENCY="3", GUNICORN_THREADS="8", PORT="5000")
    assert (conf["workers"], conf["threads"], conf["bind"]) == (3, 8, ["0.0.0.0:5000"])
    with pytest.raises(ValueError, match="WEB_CONCURRENCY must be a whole number"):
        gunicorn_settings(monkeypatch, WEB_CONCURRENCY="lots")


def test_gunicorn_accepts_the_configuration_and_loads_the_app():
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    done = run(gunicorn, "--config", "gunicorn.conf.py", "--check-config", SECRET_KEY=SECRET)
    assert done.returncode == 0, done.stdout + done.stderr


def manage_commands_named() -> list[str]:
    """Every ``manage.py COMMAND`` the Procfile and the systemd units run."""
    files = [ROOT / "Procfile", *sorted((ROOT / "deploy").glob("*.service"))]
    return sorted(
        {
            name
            for path in files
            for name in re.findall(r"python manage\.py (\w+)", path.read_text())
        }
    )


def test_the_procfile_has_web_worker_and_scheduler():
    lines = (ROOT / "Procfile").read_text().splitlines()
    processes = dict(line.split(": ", 1) for line in lines if line)
    assert {"web", "worker", "scheduler"} <= set(processes)
    assert processes["web"] == "gunicorn --config gunicorn.conf.py"
    assert processes["worker"] == "python manage.py delivery_worker"  # with its heartbeat
    assert {"delivery_worker", "delivery_schedule"} <= set(manage_commands_named())


@pytest.mark.parametrize("command", manage_commands_named())
def test_the_process_files_name_commands_that_exist(command, capsys):
    # what `manage.py help COMMAND` runs: an unknown name exits with "Unknown command"
    ManagementUtility(["manage.py", "help", command]).execute()
    assert f"manage.py {command}" in capsys.readouterr().out


def variables_read(path: Path) -> set[str]:
    """Names of the environment variables a module reads: the upper-case first argument
    of an env helper or of ``os.environ.get`` / ``os.environ[...]``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
        elif isinstance(node, ast.Subscript):
            first = node.slice
        else:
            continue
        if isinstance(first, ast.Constant) and re.fullmatch(r"[A-Z][A-Z0-9_]+", str(first.value)):
            names.add(first.value)
    return names


def test_the_environment_example_lists_every_variable_read():
    listed = set(
        re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / "deploy/env.example").read_text(), re.M)
    )
    read = variables_read(ROOT / "mentoring_site/settings.py") | variables_read(
        ROOT / "gunicorn.conf.py"
    )
    assert {"SECRET_KEY", "STATICFILES_BACKEND", "ADMINS", "WEB_CONCURRENCY"} <= read
    # A name ending in "_" is a family read by prefix (ANYMAIL_<NAME>): one example will do.
    families = {name for name in read if name.endswith("_")}
    assert {f for f in families if not any(n.startswith(f) for n in listed)} == set()
    assert read - families - {"DJANGO_SETTINGS_MODULE"} - listed == set()


# --- backups -----------------------------------------------------------------------


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
    reason="pg_dump and pg_restore need PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_a_nightly_dump_restores_into_a_new_database_with_every_row(tmp_path):
    """deploy/backup.sh, then deploy/restore-check.sh on its dump: every table of the
    restored copy holds as many rows as the database it came from, and its schema is
    the one this code migrates to."""
    from django.db import connection

    from tests import factories

    factories.DyadFactory.create_batch(3)
    db = connection.settings_dict
    server = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    env = {"DATABASE_URL": f"{server}/{db['NAME']}", "BACKUP_DIR": str(tmp_path)}
    dumped = run("bash", "deploy/backup.sh", **env)
    assert dumped.returncode == 0, dumped.stderr
    (dump,) = tmp_path.glob("continuum-*.dump")
    assert dump.stat().st_mode & 0o077 == 0  # answers and addresses: the owner reads it only
    scratch = f"{db['NAME']}_restore"
    checked = run(
        "bash", "deploy/restore-check.sh", str(dump), scratch,
        RESTORE_ADMIN_URL=f"{server}/postgres", PYTHON=sys.executable, **env,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert " 0 differ from the live database" in checked.stdout
    assert re.search(r"^relationships_dyad +3 +3$", checked.stdout, re.M)
    assert "every migration of this code is applied" in checked.stdout


def test_the_access_log_never_holds_a_sign_in_link(tmp_path):
    """A real gunicorn with the project's configuration: the request line and the
    referer of invitation, sign-in and reset links lose their secret part, in the access
    log and in the app's own log (Django's "Not Found: /invite/…" for a refused link)."""
    log, app_log = tmp_path / "access.log", tmp_path / "app.log"
    port = free_port()
    env = server_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"), GUNICORN_BIND=f"127.0.0.1:{port}")
    live_manage(env, "migrate", "--noinput")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--workers", "1",
         "--access-logfile", str(log)],
        cwd=ROOT, env={**env, "LOG_FORMAT": "json"}, stdout=subprocess.DEVNULL,
        stderr=app_log.open("w"),
    )  # fmt: skip
    secret = "SeCrEt-123_abc"
    try:
        client = _answering(port)
        client.get(f"/invite/{secret}/")
        client.get(f"/accounts/link/MQ/{secret}/")
        referer = {"Referer": f"http://127.0.0.1/invite/{secret}/?x=1"}
        client.request("GET", f"/accounts/password/reset/MQ/{secret}/", headers=referer)
        client.get("/accounts/link/sent/")
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert secret not in text
    refused = app_log.read_text()
    assert "/invite/[hidden]/" in refused and secret not in refused
    assert "GET /invite/[hidden]/ " in text and "GET /accounts/link/[hidden]/ " in text
    assert '"http://127.0.0.1/invite/[hidden]/?x=1"' in text
    assert "GET /accounts/link/sent/ " in text


def _answering(port: int, timeout: float = 30) -> LiveClient:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client = LiveClient(port)
            client.get("/healthz")
            return client
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not answer")


NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (.ci/run installs it)")
def test_the_nginx_example_logs_sign_in_links_without_their_secret(tmp_path):
    """The example's ``map`` and ``log_format`` in a real nginx: the request line of an
    invitation, sign-in or reset link loses its secret part, as in gunicorn's log."""
    example = (ROOT / "deploy" / "nginx-continuum.conf").read_text()
    found = re.search(r"^map \$request .*?^log_format continuum .*?;$", example, re.M | re.S)
    port, log = free_port(), tmp_path / "access.log"
    temp = " ".join(f"{kind}_temp_path {tmp_path / kind};" for kind in
                    ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))  # fmt: skip
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"daemon off; master_process off; pid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{\n{found.group(0)}\n{temp}\n"
        f"server {{ listen 127.0.0.1:{port}; access_log {log} continuum;\n"
        "location / { return 404; } }\n}\n"
    )
    secret = "SeCrEt-123_abc"
    asked = [f"/invite/{secret}/", f"/accounts/link/MQ/{secret}/?next=/me/",
             f"/accounts/password/reset/MQ/{secret}/", "/accounts/link/sent/",
             "/accounts/password/reset/done/", "/me/"]  # fmt: skip
    server = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(config), "-e", str(tmp_path / "error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _nginx_answers(port, server)
        for path in asked:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)
            assert connection.getresponse().status == 404
            connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = log.read_text().splitlines()
    assert secret not in "\n".join(lines)
    logged = [re.search(r'"GET (\S+) HTTP/1.1"', line).group(1) for line in lines[-len(asked) :]]
    assert logged == [
        "/invite/[hidden]/", "/accounts/link/[hidden]/?next=/me/",
        "/accounts/password/reset/[hidden]/", "/accounts/link/sent/",
        "/accounts/password/reset/done/", "/me/",
    ]  # fmt: skip


def _nginx_answers(port: int, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"nginx stopped: {server.stderr.read().decode()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("nginx did not answer")
