"""Continuum on several "machines" at once, on loopback: two app servers, two delivery
workers and a scheduler sharing one PostgreSQL and one Redis (``TASKS_BACKEND=redis``),
with one app server and one worker killed (SIGKILL) and restarted mid-run.

    python tests/multinode/run.py [--dyads 40] [--database NAME] [--redis-db 9]

.ci/run calls it after the two test runs. It migrates a fresh PostgreSQL database,
seeds a demo cohort whose open wave nobody has answered, queues the invitations and lets
the workers mail them to a local SMTP sink. Each participant waits for their own email,
signs in with its link (GET shows a button, POST with the page's CSRF token signs in),
autosaves every page and submits, each request going to either server the way a load
balancer sends them, and retries on the other server when one dies. Every participant
connects from an address of their own in 127.0.0.0/8 (each counts alone for the
throttles, as behind a proxy). A worker is killed while the invitations go out and an
app server while people submit; both are restarted.

Afterwards, and exit status 1 when any fails:
- every answer a server acknowledged is stored, once, with its value, and every
  acknowledged submission is submitted;
- every dyad has one stored result, equal to what ``recompute_scores`` computes from the
  final answers;
- every message the delivery log holds was delivered: the sink received exactly as many
  messages per recipient as the log marks sent, each link is the invitation's one link,
  and nothing is left queued. A message the killed worker had on the wire when it died
  may arrive twice (docs/delivery.md, "Guarantees"); such a duplicate passes only if it
  was among the rows that worker held or a row claimed more than once, and it is
  reported;
- ``/healthz`` on both servers reports ``ok``, an empty queue and two live workers.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.live import CSRF_FIELD, free_port  # noqa: E402

LINK = re.compile(r"http://\S+?/invite/[A-Za-z0-9_-]+/")
SINK_DELAY = 0.03  # seconds per message: slow enough to kill a worker mid-send
LEASE_SECONDS = 15
DEADLINE = 240  # seconds for the whole run after the servers are up


# --- the SMTP sink -------------------------------------------------------------------------


class Sink:
    """A local SMTP server (aiosmtpd) that keeps each accepted message's recipients and
    text; each message takes ``SINK_DELAY`` to accept, without blocking the others."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.lock = threading.Lock()
        self.messages: list[tuple[tuple[str, ...], str]] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(SINK_DELAY)
        text = envelope.content.decode("utf8", errors="replace")
        with self.lock:
            self.messages.append((tuple(envelope.rcpt_tos), text))
        return "250 OK"

    def per_recipient(self) -> collections.Counter:
        with self.lock:
            return collections.Counter(to for rcpts, _ in self.messages for to in rcpts)

    def link_for(self, email: str) -> str | None:
        with self.lock:
            for rcpts, text in self.messages:
                if email in rcpts and (found := LINK.search(text)):
                    return found.group(0)
        return None


# --- processes -----------------------------------------------------------------------------


class Proc:
    """A child in its own process group: SIGKILL reaches it and whatever it forked (an
    RQ worker's work horse, gunicorn's workers), as when a machine dies."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logs: Path):
        self.name, self.argv, self.env, self.logs = name, argv, env, logs
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        log = open(self.logs / f"{self.name}.log", "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL to the process group and to every descendant: an RQ worker runs each
        job in a work horse that starts a session of its own."""
        if self.process.poll() is None:
            for pid in [self.process.pid, *descendants(self.process.pid)]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux: read from /proc)."""
    children = collections.defaultdict(list)
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        if entry.name.isdigit():
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children[parent].append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


class AppServer(Proc):
    """gunicorn with the production configuration file, on its own loopback port."""

    def __init__(self, name: str, env: dict[str, str], logs: Path):
        self.port = free_port()
        env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": "2",
               "GUNICORN_THREADS": "4"}  # fmt: skip
        argv = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
        super().__init__(name, argv, env, logs)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {self.logs / self.name}.log")
            try:
                if get(self.port, "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer /healthz in time")


def get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1"})
        answer = connection.getresponse()
        return answer.status, answer.read().decode(errors="replace")
    finally:
        connection.close()


def manage(env: dict[str, str], *args: str) -> str:
    run = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    if run.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{run.stdout}{run.stderr}")
    return run.stdout


# --- participants --------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.retries = 0
        self.submitted = 0
        self.failures: list[str] = []

    def add(self, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)


class Person:
    """One participant's browser: its own source address and cookies, a keep-alive
    connection per server; each request goes to the next server in turn, and a
    request that dies with its server is sent again to the other one."""

    def __init__(self, email: str, address: str, servers: list[AppServer], stats: Stats):
        self.email, self.address, self.servers, self.stats = email, address, servers, stats
        self.cookies: dict[str, str] = {}
        self.connections: dict[int, http.client.HTTPConnection] = {}
        self.turn = hash(email) % len(servers)
        self.acknowledged: dict[str, str] = {}

    def _connection(self, port: int) -> http.client.HTTPConnection:
        if port not in self.connections:
            self.connections[port] = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=60, source_address=(self.address, 0)
            )
        return self.connections[port]

    def _once(self, port: int, method: str, path: str, form: dict | None, token: str | None):
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if token:
            headers["X-CSRFToken"] = token
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = self._connection(port)
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        text = answer.read().decode(errors="replace")
        self.stats.add(time.perf_counter() - started)
        for name, value in answer.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return answer.status, answer.getheader("Location", ""), text

    def request(self, method: str, path: str, form: dict | None = None, token: str | None = None):
        for attempt in range(120):
            port = self.servers[self.turn % len(self.servers)].port
            self.turn += 1
            try:
                return self._once(port, method, path, form, token)
            except (OSError, http.client.HTTPException):
                self.connections.pop(port).close()
                with self.stats.lock:
                    self.stats.retries += 1
                time.sleep(min(0.1 * (attempt + 1), 1.0))
        raise RuntimeError(f"{self.email}: no server answered {method} {path}")

    def token(self, page: str) -> str:
        return CSRF_FIELD.search(page).group(1)


def answer_for(email: str, code: str, low: int, high: int) -> str:
    """Each person's answer to each item: fixed, so a repeated request sends the same."""
    digest = hashlib.sha256(f"{email}/{code}".encode()).digest()
    return str(low + digest[0] % (high - low + 1))


def expect(condition: bool, failure: str) -> None:
    if not condition:
        raise RuntimeError(failure)


def take_part(person: Person, plan: dict, sink: Sink, expected_link: str, deadline: float):
    """Wait for the invitation, sign in with its link, autosave each page, submit."""
    while (link := sink.link_for(person.email)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{person.email}: no invitation arrived")
        time.sleep(0.2)
    if link != expected_link:
        raise RuntimeError(f"{person.email}: the mail's link {link} is not {expected_link}")
    path = urlsplit(link).path
    status, _, page = person.request("GET", path)
    expect(status == 200, f"{person.email}: the link page answered {status}")
    status, location, _ = person.request(
        "POST", path, {"csrfmiddlewaretoken": person.token(page)}, None
    )
    expect(status == 302 and "/me/survey/" in location, f"{person.email}: sign-in {status}")
    survey = f"/me/survey/{plan['code']}/{plan['wave']}"
    status, _, page = person.request("GET", f"{survey}/page/1/")
    expect(status == 200, f"{person.email}: page 1 answered {status}")
    token = person.token(page)
    for items in plan["pages"]:
        values = {code: answer_for(person.email, code, low, high) for code, low, high in items}
        status, _, body = person.request("POST", f"{survey}/autosave/", values, token)
        if status != 200 or f'"saved": {len(values)}' not in body:
            raise RuntimeError(f"{person.email}: autosave answered {status} {body[:200]}")
        person.acknowledged.update(values)
    status, location, _ = person.request("POST", f"{survey}/submit/", {}, token)
    if status != 302 or "/me/results/" not in location:
        raise RuntimeError(f"{person.email}: submit answered {status} {location}")
    with person.stats.lock:
        person.stats.submitted += 1


# --- the run -------------------------------------------------------------------------------


def environment(database_url: str, redis_url: str, sink: Sink, site_port: int) -> dict:
    keep = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    return {
        **keep,
        "DEBUG": "0",
        "SECRET_KEY": "continuum-multinode-check-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TASKS_BACKEND": "redis",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "SITE_URL": f"http://127.0.0.1:{site_port}",
        "DELIVERY_BATCH_SIZE": "10",
        "DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
        "DELIVERY_SCHEDULE_SECONDS": "2",
        "LOG_LEVEL": "warning",
    }


def prepare(env: dict, dyads: int) -> dict:
    """Migrate, seed, and empty the open wave; returns what the participants need."""
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--dyads", str(dyads), "--waves", "2")
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "mentoring_site.settings"
    import django

    django.setup()
    from assessments.models import DyadWaveResult, Invitation, Item, Response, Wave

    wave = Wave.objects.get(cohort__program__slug="demo", cohort__slug="2026", number=2)
    Response.objects.filter(wave=wave).delete()
    DyadWaveResult.objects.filter(wave=wave).delete()
    Invitation.objects.filter(wave=wave).delete()  # the demo records who it had invited
    items = Item.objects.filter(subscale__battery__instrument=wave.instrument)
    pages = collections.defaultdict(list)
    for item in items.select_related("subscale__battery").order_by("subscale__battery", "pk"):
        battery = item.subscale.battery
        pages[battery.pk].append((item.code, battery.scale_min, battery.scale_max))
    return {"wave_id": wave.pk, "wave": wave.number, "pages": list(pages.values())}


def participants(wave_id: int) -> list[tuple[str, str, str]]:
    """(email, research code, expected link) of every partner of the wave's dyads."""
    from assessments.models import Invitation
    from assessments.tokens import invitation_url

    rows = Invitation.objects.filter(wave_id=wave_id).select_related("participant__user", "dyad")
    found = [(i.participant.user.email, i.dyad.research_code, invitation_url(i)) for i in rows]
    return sorted(found)


def held_by_dead_worker(killed_at: float) -> set[int]:
    """Rows a killed worker held: still ``sending``, claimed before it died (the live
    worker marks each of its rows within a second). ``killed_at``: ``time.monotonic()``."""
    import datetime as dt

    from django.utils import timezone

    from delivery.models import Delivery

    moment = timezone.now() - dt.timedelta(seconds=time.monotonic() - killed_at)
    rows = Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lte=moment)
    return set(rows.values_list("pk", flat=True))


def wait_drained(deadline: float) -> None:
    """Until nothing is queued or being sent and RQ's queue is empty."""
    import django_rq

    from delivery.models import Delivery

    busy = (Delivery.Status.QUEUED, Delivery.Status.SENDING)
    while time.monotonic() < deadline:
        if not Delivery.objects.filter(status__in=busy).exists():
            if django_rq.get_queue("default").count == 0:
                return
        time.sleep(0.5)
    raise RuntimeError("the delivery log did not drain in time")


class Checks:
    def __init__(self):
        self.rows: list[tuple[str, bool, str]] = []

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.rows.append((name, bool(ok), detail))

    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.rows)

    def print(self) -> None:
        for name, ok, detail in self.rows:
            print(f"  {'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")


def check_answers(people: list[Person], plan: dict, checks: Checks) -> None:
    from assessments.models import Answer, Response

    items = sum(len(page) for page in plan["pages"])
    stored = collections.defaultdict(dict)
    rows = Answer.objects.filter(response__wave_id=plan["wave_id"]).values_list(
        "response__respondent__user__email", "item__code", "value"
    )
    count = 0
    for email, code, value in rows:
        stored[email][code] = value
        count += 1
    acknowledged = sum(len(p.acknowledged) for p in people)
    wrong = [
        (p.email, code)
        for p in people
        for code, value in p.acknowledged.items()
        if str(stored[p.email].get(code)) != value
    ]
    checks.add(
        "every acknowledged answer stored once, with its value",
        not wrong and count == acknowledged == len(people) * items,
        f"{acknowledged} acknowledged, {count} stored, {len(wrong)} different",
    )
    responses = Response.objects.filter(wave_id=plan["wave_id"])
    submitted = responses.filter(status=Response.Status.SUBMITTED).count()
    checks.add(
        "every acknowledged submission submitted, one response each",
        responses.count() == submitted == len(people),
        f"{submitted} submitted of {len(people)} participants",
    )


def check_scores(env: dict, plan: dict, checks: Checks) -> None:
    from django.db.models import DateTimeField

    from assessments.models import DyadWaveResult

    fields = [
        f.attname
        for f in DyadWaveResult._meta.concrete_fields
        if not f.primary_key and not isinstance(f, DateTimeField)
    ]
    rows = DyadWaveResult.objects.filter(wave_id=plan["wave_id"]).order_by("dyad_id")
    before = list(rows.values(*fields))
    manage(env, "recompute_scores", "--cohort", "demo/2026")
    after = list(rows.values(*fields))
    dyads = len({row["dyad_id"] for row in before})
    checks.add(
        "every dyad scored once, as recompute_scores computes from the final answers",
        before == after and dyads == len(before) and all(
            r["mentor_submitted"] and r["protege_submitted"] for r in before
        ),
        f"{len(before)} stored results for {dyads} dyads, equal after recompute: {before == after}",
    )  # fmt: skip


def check_mail(sink: Sink, held: set[int], checks: Checks) -> dict:
    from django.db.models import Q

    from delivery.messages import RELATED, recipient_address
    from delivery.models import Delivery

    log = Delivery.objects.all()
    status = collections.Counter(log.values_list("status", flat=True))
    sent = collections.Counter(
        log.filter(status=Delivery.Status.SENT).values_list("to_email", flat=True)
    )
    received = sink.per_recipient()
    extra = {to: received[to] - sent[to] for to in received if received[to] > sent[to]}
    missing = {to: sent[to] - received[to] for to in sent if received[to] < sent[to]}
    # A row claimed more than once lost its first claim (a killed worker's lease ran out,
    # or an error left it unclear whether the server took the message): the only rows
    # whose message may be on the wire twice, even when the retry then found it no
    # longer needed (cancelled: the participant had already submitted).
    # A cancelled row keeps no address (the worker that sent it died before recording
    # one), so the address is the one the worker sends to.
    again = log.filter(Q(pk__in=held) | Q(attempts__gte=2)).select_related(*RELATED)
    held_to = {row.to_email or recipient_address(row) for row in again}
    explained = all(to in held_to and count == 1 for to, count in extra.items())
    checks.add(
        "every due message delivered, exactly once per message the log marks sent",
        not missing and explained and len(extra) <= 1 and set(status) <= {"sent", "cancelled"},
        f"{sum(sent.values())} sent, {sum(received.values())} received by the sink, "
        f"statuses {dict(status)}, missing {missing or 'none'}, "
        f"twice (on the wire when the worker died) {extra or 'none'}",
    )
    return {"sent": sum(sent.values()), "received": sum(received.values()), "twice": extra}


def check_health(servers: list[AppServer], checks: Checks) -> None:
    import json

    for server in servers:
        status, body = get(server.port, "/healthz")
        health = json.loads(body)
        queue, worker = health["queue"], health["worker"]
        checks.add(
            f"{server.name} /healthz ok, queue empty, a fresh heartbeat",
            status == 200
            and health["status"] == "ok"
            and queue["deliveries_due"] == queue["tasks_queued"] == 0
            and worker["alive"] >= 2
            and worker["last_heartbeat_seconds"] < 30,
            body,
        )


def claims_in_flight() -> int:
    """How many batches are being sent right now (distinct claims of ``sending`` rows)."""
    from delivery.models import Delivery

    sending = Delivery.objects.filter(status=Delivery.Status.SENDING)
    return sending.values("claim").distinct().count()


def chaos(servers, workers, sink, stats, invitations: int, events: dict) -> None:
    """Kill worker 1 once a quarter of the invitations are out and both workers are in
    the middle of a batch, and app server A once a third of the participants have
    submitted; restart each a few seconds later."""
    from django.db import connections

    deadline = time.monotonic() + DEADLINE
    try:
        while time.monotonic() < deadline:
            out = sum(sink.per_recipient().values())
            if out >= invitations // 4 and (claims_in_flight() >= 2 or out >= invitations // 2):
                break
            time.sleep(0.01)
        workers[0].kill()
        events["worker killed"] = time.monotonic()
        time.sleep(3)  # the live worker marks its rows meanwhile; the dead one's stay
        events["held"] = held_by_dead_worker(events["worker killed"])
        workers[0].start()
        events["worker restarted"] = time.monotonic()
        while stats.submitted < invitations // 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        servers[0].kill()
        events["server killed"] = time.monotonic()
        time.sleep(2)
        servers[0].start()
        servers[0].wait_healthy()
        events["server back"] = time.monotonic()
    finally:
        connections.close_all()


def create_database(admin_url: str, name: str) -> str:
    import psycopg2

    parts = urlsplit(admin_url)
    admin = psycopg2.connect(
        dbname="postgres", user=parts.username or "postgres", password=parts.password,
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
    )  # fmt: skip
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return f"{admin_url.rstrip('/')}/{name}"


def drop_database(admin_url: str, name: str) -> None:
    import psycopg2

    parts = urlsplit(admin_url)
    admin = psycopg2.connect(
        dbname="postgres", user=parts.username or "postgres", password=parts.password,
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
    )  # fmt: skip
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def source_addresses(count: int) -> list[str]:
    """One loopback address per participant (127.0.1.1, 127.0.1.2, ...), checked usable."""
    addresses = [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(count)]
    with socket.socket() as probe:
        probe.bind((addresses[-1], 0))
    return addresses


def run(options) -> bool:
    import redis

    started = time.monotonic()
    logs = Path(tempfile.mkdtemp(prefix="continuum-multinode-"))
    redis_url = f"redis://127.0.0.1:6379/{options.redis_db}"
    redis.Redis.from_url(redis_url).flushdb()
    database_url = create_database(options.postgres, options.database)
    sink = Sink()
    sink.controller.start()
    site_port = free_port()
    env = environment(database_url, redis_url, sink, site_port)
    processes: list[Proc] = []
    checks, events, stats = Checks(), {}, Stats()
    try:
        plan = prepare(env, options.dyads)
        prepared = time.monotonic()
        servers = [AppServer("web-a", env, logs), AppServer("web-b", env, logs)]
        processes += servers
        worker = [sys.executable, "manage.py", "delivery_worker"]
        workers = [Proc(f"worker-{n}", worker, env, logs) for n in (1, 2)]
        scheduler = Proc(
            "scheduler", [sys.executable, "manage.py", "delivery_schedule", "--loop",
                          "--period", "2"], env, logs,
        )  # fmt: skip
        processes += [*workers, scheduler]
        time.sleep(2)  # the workers connect to Redis
        manage(env, "send_invitations", "--wave", str(plan["wave_id"]))
        sent_at = time.monotonic()
        people_rows = participants(plan["wave_id"])
        addresses = source_addresses(len(people_rows))
        people = [
            Person(e, a, servers, stats)
            for (e, _, _), a in zip(people_rows, addresses, strict=True)
        ]
        deadline = time.monotonic() + DEADLINE
        killer = threading.Thread(
            target=chaos,
            args=(servers, workers, sink, stats, len(people), events),
            daemon=True,
        )
        killer.start()
        with ThreadPoolExecutor(max_workers=12) as pool:
            futures = [
                pool.submit(take_part, person, {**plan, "code": code}, sink, link, deadline)
                for person, (_, code, link) in zip(people, people_rows, strict=True)
            ]
            for future in futures:
                try:
                    future.result()
                except Exception as error:  # reported below, the others go on
                    stats.failures.append(f"{type(error).__name__}: {error}")
        answered = time.monotonic()
        killer.join(timeout=60)
        wait_drained(deadline + 60)
        drained = time.monotonic()
        time.sleep(5)  # two scheduler periods: alerts the last submissions raise are queued
        wait_drained(deadline + 90)
        time.sleep(1)  # a duplicate still on its way would show now
        checks.add(
            "every participant signed in by link, answered and submitted",
            not stats.failures and stats.submitted == len(people),
            f"{stats.submitted} of {len(people)}; {len(stats.failures)} failed"
            + (f": {stats.failures[:3]}" if stats.failures else ""),
        )
        checks.add(
            "worker 1 and app server A were killed and restarted mid-run",
            {"worker killed", "server killed", "server back"} <= events.keys(),
            ", ".join(sorted(k for k in events if k != "held")),
        )
        check_answers(people, plan, checks)
        check_scores(env, plan, checks)
        mail = check_mail(sink, events.get("held", set()), checks)
        check_health(servers, checks)
    finally:
        for process in processes:
            process.stop()
        sink.controller.stop()
        if not options.keep:
            from django.db import connections

            connections.close_all()
            drop_database(options.postgres, options.database)
            redis.Redis.from_url(redis_url).flushdb()
    latencies = sorted(stats.latencies)
    print(
        f"multinode check: {len(people)} participants, 2 app servers, 2 workers, 1 scheduler, "
        f"PostgreSQL + Redis; logs in {logs}"
    )
    print(
        f"  setup (migrate, seed) {prepared - started:.0f} s; invitations queued to last "
        f"submission {answered - sent_at:.1f} s; to an empty queue {drained - sent_at:.1f} s; "
        f"total {time.monotonic() - started:.0f} s"
    )
    print(
        f"  {len(latencies)} HTTP requests, p50 {1000 * statistics.median(latencies):.0f} ms, "
        f"p95 {1000 * latencies[int(0.95 * (len(latencies) - 1))]:.0f} ms; "
        f"{stats.retries} sent again after a server died"
    )
    if "worker killed" in events:
        print(
            f"  worker 1 killed {events['worker killed'] - sent_at:.1f} s after the invitations "
            f"were queued, holding {len(events.get('held', ()))} messages; app server A killed "
            f"at {events.get('server killed', 0) - sent_at:.1f} s, answering again "
            f"{events.get('server back', 0) - events.get('server killed', 0):.1f} s later; "
            f"{mail['sent']} messages sent, {mail['received']} received"
        )
    checks.print()
    print(f"multinode: {sum(ok for _, ok, _ in checks.rows)} passed, "
          f"{sum(not ok for _, ok, _ in checks.rows)} failed")  # fmt: skip
    return checks.passed()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dyads", type=int, default=40)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default=f"continuum_multinode_{os.getpid()}")
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    sys.exit(0 if run(parser.parse_args()) else 1)


if __name__ == "__main__":
    main()
