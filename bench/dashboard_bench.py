"""Coordinator dashboard against DESIGN §8: server time, query count and page weight.

Standalone: ``python bench/dashboard_bench.py [--dyads 2000] [--waves 6]`` builds the demo
data set the way ``bench/run.py`` does and prints the table. ``bench_dashboard()`` returns
the rows (name, measured, budget, baseline, ratio, verdict) for ``bench/run.py`` to print;
it expects ``seed_demo`` data in an already configured Django.

Server time is the median of repeated requests through Django's test ``Client`` (after
warm-up), with ``/healthz`` in the same run as the baseline, for each demo cohort present
of ``SIZES`` (200, 2,000 and 10,000 dyads as ``bench/run.py`` builds them), and the growth
from the smallest to the largest. Page weight: a first load fetches the page's HTML as
served (the request accepts gzip and brotli) and every stylesheet and script it links as
WhiteNoise serves them (brotli); a repeat load only the HTML, since static files carry
hashed names and are cached for a year.
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
TIME_BUDGET_MS = 150
GROWTH_BUDGET = 1.5
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


SIZES = ("small", "2026", "scale")  # demo cohorts of 200, 2,000 and 10,000 dyads (run.py)


def bench_dashboard(slugs: tuple[str, ...] = SIZES) -> list[Row]:
    """Rows for the demo cohorts' dashboards and alerts (``seed_demo`` data, any sizes):
    times per cohort, the growth from the smallest to the largest, query counts and the
    page weight of the largest."""
    from django.test import override_settings

    from relationships.models import Cohort

    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    present = set(Cohort.objects.filter(program__slug="demo").values_list("slug", flat=True))
    slugs = tuple(slug for slug in slugs if slug in present)
    with override_settings(ALLOWED_HOSTS=["testserver"], STORAGES=storages):
        seen = [_measure(slug) for slug in slugs]
    return _time_rows(seen) + _weight_rows(seen[-1]["html"], seen[-1]["assets"], seen[-1])


def _measure(slug: str) -> dict:
    """Server times, query counts, the page and its static files of one cohort."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from relationships.models import Cohort, User

    cohort = Cohort.objects.select_related("program").get(program__slug="demo", slug=slug)
    client = Client(HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    client.force_login(User.objects.get(email="coordinator@example.org"))
    url = f"/coordinate/{cohort.program.slug}/{cohort.slug}/"
    code = cohort.dyads.order_by("pk").values_list("research_code", flat=True)[3]
    started = time.perf_counter()
    page = client.get(url)
    cold_ms = 1000 * (time.perf_counter() - started)
    assert page.status_code == 200, page.status_code
    seen = {
        "dyads": cohort.dyads.count(),
        "size": f"{cohort.dyads.count():,} dyads x {cohort.waves.count()} waves",
        "cold": cold_ms,
        "baseline": _median_ms(lambda: client.get("/healthz")),
        "measured": _median_ms(lambda: client.get(url)),
        "alerts": _median_ms(lambda: client.get(url + "alerts/")),
        "detail": _median_ms(lambda: client.get(f"{url}dyads/{code}/"), repeat=5),
        "html": page.content,
        "served": len(client.get(url).content),
        "encoding": page.get("Content-Encoding", "none"),
        "assets": _static_files(page.content.decode()),
    }
    for name, tail in (("queries", ""), ("alert_queries", "alerts/")):
        with CaptureQueriesContext(connection) as captured:
            client.get(url + tail)
        seen[name] = len(captured)
    return seen


def _time_rows(seen: list[dict]) -> list[Row]:
    rows = []
    for one in seen:
        measured, baseline = one["measured"], one["baseline"]
        rows += [
            Row(f"cohort dashboard, {one['size']}, median of {REPEAT}", f"{measured:.0f} ms",
                f"< {TIME_BUDGET_MS} ms", f"/healthz {baseline:.1f} ms",
                f"{measured / baseline:.0f}x", "ok" if measured < TIME_BUDGET_MS else "OVER"),
            Row(f"alerts list, {one['size']}, median of {REPEAT}", f"{one['alerts']:.0f} ms",
                f"< {TIME_BUDGET_MS} ms", f"/healthz {baseline:.1f} ms",
                f"{one['alerts'] / baseline:.0f}x",
                "ok" if one["alerts"] < TIME_BUDGET_MS else "OVER"),
            Row("  dyad detail, median of 5; first dashboard request of the process",
                f"{one['detail']:.0f} ms; {one['cold']:.0f} ms", "-", "", "", ""),
            Row("  queries per request: dashboard, alerts",
                f"{one['queries']}, {one['alert_queries']}", "independent of size", "", "",
                "asserted in tests"),
        ]  # fmt: skip
    first, last = seen[0], seen[-1]
    for name, key in (("cohort dashboard", "measured"), ("alerts list", "alerts")):
        growth = last[key] / first[key]
        steps = " / ".join(f"{one[key]:.0f}" for one in seen)
        sizes = " / ".join(f"{one['dyads']:,}" for one in seen)
        rows.append(
            Row(f"{name}, growth {sizes} dyads",
                f"{steps} ms", f"<= 1.5x of {first['dyads']:,} dyads", "",
                f"{growth:.2f}x", "ok" if growth <= GROWTH_BUDGET else "OVER")
        )  # fmt: skip
    return rows


def _weight_rows(html: bytes, assets: dict[str, bytes], seen: dict) -> list[Row]:
    html_br, html_gz = _sizes(html)
    static_br = sum(_sizes(body)[0] for body in assets.values())
    static_gz = sum(_sizes(body)[1] for body in assets.values())
    first, repeat = seen["served"] + static_br, seen["served"]
    return [
        Row(
            f"dashboard first load, {seen['size']}: static brotli + HTML as served",
            _kb(first),
            "<= 1,600 KB",
            f"gzip {_kb(html_gz + static_gz)}",
            "",
            "ok" if first <= FIRST_LOAD_BUDGET else "OVER",
        ),
        Row(
            f"dashboard repeat load, {seen['size']}: HTML as served",
            f"{_kb(repeat)} (encoding {seen['encoding']})",
            "<= 100 KB",
            f"if compressed: brotli {_kb(html_br)}, gzip {_kb(html_gz)}",
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
