"""gunicorn settings for the web process: ``gunicorn --config gunicorn.conf.py``.

The Procfile's ``web`` line and ``deploy/continuum-web.service`` start it this way;
docs/deployment.md ("Processes", "Connection sizing") explains the numbers.

- ``gthread`` workers: each process serves ``GUNICORN_THREADS`` requests at once, so a
  slow client, a database wait or a long export stream holds a thread, not a process.
- ``workers``: ``WEB_CONCURRENCY``, else twice the cores this process may use, plus one
  (scoring and chart building are CPU work that threads of one process cannot share).
- ``timeout``: with gthread it is how long a worker's main loop may stay silent before
  the arbiter kills it, not how long a request may take. The main loop reports every
  second while threads stream, so an export of any length is never cut off; the
  timeout only catches a hung worker. (A ``sync`` worker would kill a stream at it.)
- ``graceful_timeout``: on a restart, requests in flight (an export to a slow client)
  get this long to finish; systemd's ``TimeoutStopSec`` is longer.
- The access log goes to stdout, one text line per request ending in ``request_id=``
  (the ``X-Request-ID`` of the response), which joins it to the application's JSON
  lines on stderr. Sign-in addresses (invitation, emailed and password-reset links)
  are written without their secret part (``mentoring_site.access_log``).
"""

import os


def _env_int(name: str, default: int, *, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}, got {raw!r}")
    return int(raw)


def _cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _bind() -> list[str]:
    """``GUNICORN_BIND``; else all interfaces on ``PORT`` (platforms that set it); else
    the loopback port the nginx example proxies to."""
    if os.environ.get("GUNICORN_BIND"):
        return [os.environ["GUNICORN_BIND"]]
    if os.environ.get("PORT"):
        return [f"0.0.0.0:{_env_int('PORT', 8000)}"]
    return ["127.0.0.1:8000"]


wsgi_app = "mentoring_site.wsgi:application"
proc_name = "continuum"
bind = _bind()

worker_class = "gthread"
workers = _env_int("WEB_CONCURRENCY", 2 * _cores() + 1)
threads = _env_int("GUNICORN_THREADS", 4)
timeout = _env_int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 120)
# nginx keeps connections to gunicorn open (upstream keepalive): reuse them a little.
keepalive = 5
# The heartbeat file on tmpfs: a worker never stalls on a slow disk and looks hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# X-Forwarded-Proto and friends are believed only from these proxy addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = "-"
logger_class = "mentoring_site.access_log.AccessLogger"
errorlog = "-"
access_log_format = (
    '%(h)s %({x-forwarded-for}i)s %(t)s "%(r)s" %(s)s %(B)s %(M)sms '
    '"%(f)s" "%(a)s" request_id=%({x-request-id}o)s'
)
