"""Coordinator dashboard against DESIGN §8: server time, query count and page weight.

Standalone: ``python bench/dashboard_bench.py [--dyads 2000] [--waves 6]`` builds the demo
data set the way ``bench/run.py`` does and prints the table. ``bench_dashboard()`` returns
the rows (name, measured, budget, baseline, ratio, verdict) for ``bench/run.py`` to print;
it expects ``seed_demo`` data in an already configured Django.

Server time is the median of repeated requests through Django's test ``Client`` (after
warm-up), with ``/healthz`` in the same run as the baseline. Page weight compresses the
page's HTML and every stylesheet and script it links, as WhiteNoise serves them (brotli,
gzip): a first load fetches all of them; a repeat load only the HTML, since static files
carry hashed names and are cached for a year.
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: ``python bench/dashboard_bench.py``
    sys.path.insert(0, str(ROOT))

from bench.rows import Row  # noqa: E402

REPEAT = 15
WARM_UP = 2
TIME_BUDGET_MS = 300
FIRST_LOAD_BUDGET = 1.6 * 1024 * 1024
REPEAT_LOAD_BUDGET = 100 * 1024
ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src)="([^"]+)"')


def _median_ms(request: Callable[[], object], repeat: int = REPEAT) -> float:
    for _ in range(WARM_UP):
        request()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        request()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def _sizes(body: bytes) -> tuple[int, int]:
    import brotli

    return len(brotli.compress(body)), len(gzip.compress(body, compresslevel=9))


def _static_files(html: str) -> dict[str, bytes]:
    """Every stylesheet and script the page links, read through the staticfiles finders."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    prefix = "/" + settings.STATIC_URL.lstrip("/")
    found = {}
    for url in ASSET.findall(html):
        path = finders.find(url.removeprefix(prefix))
        if path is None:
            raise LookupError(f"the page links {url}, which no static finder has")
        found[url] = Path(path).read_bytes()
    return found


def _kb(size: float) -> str:
    return f"{size / 1024:,.0f} KB"


def bench_dashboard() -> list[Row]:
    """Rows for the demo cohort's dashboard (``seed_demo`` data, any size)."""
    from django.test import override_settings

    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(ALLOWED_HOSTS=["testserver"], STORAGES=storages):
        seen = _measure()
    return _time_rows(seen) + _weight_rows(seen["html"], seen["assets"])


def _measure() -> dict:
    """Server times, the query count, the page and its static files, in one run."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from relationships.models import Cohort, User

    cohort = Cohort.objects.select_related("program").get(program__slug="demo", slug="2026")
    client = Client()
    client.force_login(User.objects.get(email="coordinator@example.org"))
    url = f"/coordinate/{cohort.program.slug}/{cohort.slug}/"
    code = cohort.dyads.order_by("pk").values_list("research_code", flat=True)[3]
    started = time.perf_counter()
    page = client.get(url)
    cold_ms = 1000 * (time.perf_counter() - started)
    assert page.status_code == 200, page.status_code
    seen = {
        "size": f"{cohort.dyads.count():,} dyads x {cohort.waves.count()} waves",
        "cold": cold_ms,
        "baseline": _median_ms(lambda: client.get("/healthz")),
        "measured": _median_ms(lambda: client.get(url)),
        "alerts": _median_ms(lambda: client.get(url + "alerts/"), repeat=5),
        "detail": _median_ms(lambda: client.get(f"{url}dyads/{code}/"), repeat=5),
        "html": page.content,
        "assets": _static_files(page.content.decode()),
    }
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return seen | {"queries": len(captured)}


def _time_rows(seen: dict) -> list[Row]:
    measured, baseline = seen["measured"], seen["baseline"]
    return [
        Row(
            f"cohort dashboard, {seen['size']}, median of {REPEAT}",
            f"{measured:.0f} ms",
            f"< {TIME_BUDGET_MS} ms",
            f"/healthz {baseline:.1f} ms",
            f"{measured / baseline:.0f}x",
            "ok" if measured < TIME_BUDGET_MS else "OVER",
        ),
        Row("cohort dashboard, first request of the process", f"{seen['cold']:.0f} ms",
            "-", "", "", ""),
        Row("cohort dashboard, queries per request", f"{seen['queries']}",
            "independent of size", "", "", "asserted in tests"),
        Row("alerts list, median of 5", f"{seen['alerts']:.0f} ms", "-", "", "", ""),
        Row("dyad detail, median of 5", f"{seen['detail']:.0f} ms", "-", "", "", ""),
    ]  # fmt: skip


def _weight_rows(html: bytes, assets: dict[str, bytes]) -> list[Row]:
    html_br, html_gz = _sizes(html)
    static_br = sum(_sizes(body)[0] for body in assets.values())
    static_gz = sum(_sizes(body)[1] for body in assets.values())
    first, repeat = html_br + static_br, html_br
    return [
        Row(
            f"dashboard first load, brotli ({len(assets)} static files + HTML)",
            _kb(first),
            "<= 1,600 KB",
            f"gzip {_kb(html_gz + static_gz)}",
            "",
            "ok" if first <= FIRST_LOAD_BUDGET else "OVER",
        ),
        Row(
            "dashboard repeat load, brotli (HTML; static cached)",
            _kb(repeat),
            "<= 100 KB",
            f"gzip {_kb(html_gz)}; raw {_kb(len(html))}",
            "",
            "ok" if repeat <= REPEAT_LOAD_BUDGET else "OVER",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dyads", type=int, default=2000)
    parser.add_argument("--waves", type=int, default=6)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    import run

    run.setup_django()
    from django.db import connection

    print(f"database: {connection.vendor}")
    run.build(options.dyads, options.waves, 0)
    run.print_table(bench_dashboard())


if __name__ == "__main__":
    main()
