"""Continuum benchmarks: `make bench` (or `python bench/run.py [--dyads N] [--waves W]`).

Builds a large demo cohort in its own database (PostgreSQL when DATABASE_URL is set,
else the SQLite file bench/out/bench.sqlite3), runs every benchmark and prints a table
of measured value, budget (DESIGN §8) and a baseline measured in the same run.
Nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from bench.rows import Row  # noqa: E402


def timed(function: Callable[[], object], repeat: int = 1) -> float:
    """Median wall time in seconds over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def setup_django() -> None:
    os.environ.setdefault("SECRET_KEY", "continuum-bench-not-secret")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    if not os.environ.get("DATABASE_URL"):
        OUT.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("SQLITE_PATH", str(OUT / "bench.sqlite3"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentoring_site.settings")
    import django

    django.setup()


SCALE_COHORT = "scale"
SMALL_COHORT, SMALL_DYADS = "small", 200


def build(dyads: int, waves: int, scale_dyads: int) -> None:
    """demo/2026 for the page, export and load benchmarks; demo/small (200 dyads) and
    demo/scale (10,000 dyads, about 100,000 submitted responses) for the dashboards'
    growth, the scored exports and the recompute."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    sizes = (("2026", dyads), (SMALL_COHORT, SMALL_DYADS if scale_dyads else 0))
    for cohort, size in (*sizes, (SCALE_COHORT, scale_dyads)):
        if not size:
            continue
        started = time.perf_counter()
        call_command("seed_demo", dyads=size, waves=waves, seed=11, cohort=cohort, verbosity=0)
        took = time.perf_counter() - started
        print(f"data set demo/{cohort}: {size} dyads x {waves} waves ready in {took:.0f} s")
    _analyze()


def _analyze() -> None:
    """The tables as autovacuum keeps them on a live database (the server may have it
    off; this machine's has): fresh planner statistics, and the pages of the
    bulk-written rows marked all-visible, so that a query an index covers (the exports'
    check that the stored results are current) reads only the index. Right after
    seeding, no vacuum has run yet and every such read visits the rows too: that check
    took 100 ms at 10,000 dyads instead of 30."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def bench_recompute() -> list[Row]:
    """recompute_scores of the scale cohort vs. a bare read of the same answer rows."""
    from django.db import connection

    from assessments.models import Answer, Response
    from assessments.services import results_recompute
    from relationships.models import Cohort

    cohort = Cohort.objects.get(program__slug="demo", slug=SCALE_COHORT)
    responses = Response.objects.filter(wave__cohort=cohort, status="submitted").count()
    answers = Answer.objects.filter(response__wave__cohort=cohort)
    bare = answers.order_by().values_list("response_id", "item_id", "value")
    sql, params = bare.query.sql_with_params()

    def bare_read() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            while cursor.fetchmany(10_000):
                pass

    baseline = timed(bare_read, repeat=2)
    measured = timed(lambda: results_recompute(cohort=cohort), repeat=2)
    return [
        Row(
            f"recompute_scores, {responses:,} responses",
            f"{measured:.1f} s",
            "< 30 s per 100,000",
            f"bare answer read {baseline:.1f} s",
            f"{measured / baseline:.1f}x",
            "ok" if measured * 100_000 / max(responses, 1) < 30 else "OVER",
        ),
    ]


def bench_dashboard() -> list[Row]:
    from bench.dashboard_bench import bench_dashboard as rows

    return [Row(*vars(row).values()) for row in rows()]


def bench_load() -> list[Row]:
    from bench.load_bench import bench_survey_load

    return bench_survey_load()


def bench_export() -> list[Row]:
    """The long export against COPY of the same rows (PostgreSQL only).

    Throughput is measured in this process, like the COPY baseline; peak RSS is that of
    a separate ``export_cohort`` process writing the whole file.
    """
    from django.db import connection

    from assessments.research.services import export_stream
    from relationships.models import Cohort

    if connection.vendor != "postgresql":
        return [Row("long export vs COPY", "skipped", "", "needs DATABASE_URL", "", "")]
    cohort = Cohort.objects.select_related("program").get(program__slug="demo", slug="2026")
    counted = []

    def export() -> None:
        chunks, counter = export_stream(cohort=cohort, format="long")
        for _ in chunks:
            pass
        counted.append(counter.count)

    measured = timed(export, repeat=3)
    rows = counted[-1]
    baseline = timed(lambda: _copy_long(connection, cohort.pk), repeat=3)
    command = [sys.executable, str(ROOT / "manage.py"), "export_cohort", "demo/2026",
               "--format", "long", "-o", os.devnull]  # fmt: skip
    peak_mb = child_peak_rss_mb(command)
    ratio = baseline / measured
    return [
        Row(f"long export, {rows:,} answers", f"{rows / measured:,.0f} rows/s", ">= 50% of COPY",
            f"COPY {rows / baseline:,.0f} rows/s", f"{ratio:.0%}",
            "ok" if ratio >= 0.5 else "UNDER"),
        Row("long export, peak RSS of the exporting process", f"{peak_mb:.0f} MB", "< 300 MB",
            "", "", "ok" if peak_mb < 300 else "OVER"),
    ]  # fmt: skip


def child_peak_rss_mb(command: list[str]) -> float:
    """Run ``command`` and return the peak resident memory of that process alone.

    VmHWM in /proc is the high-water mark of the process's own address space after exec
    (``ru_maxrss`` of a child would include this bigger parent's pages from the fork).
    """
    import subprocess

    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_kb = 0
    status = Path(f"/proc/{child.pid}/status")
    while child.poll() is None:
        try:
            lines = status.read_text().splitlines()
        except OSError:
            break
        for line in lines:
            if line.startswith("VmHWM:"):
                peak_kb = max(peak_kb, int(line.split()[1]))
        time.sleep(0.02)
    if child.wait():
        raise RuntimeError(f"{' '.join(command)} failed with exit code {child.returncode}")
    return peak_kb / 1024


def _copy_long(connection, cohort_id: int) -> None:
    import io

    sql = f"""COPY (
        SELECT w.number, d.research_code, p.research_code, r.role, i.code, a.value, r.submitted_at
        FROM assessments_answer a
        JOIN assessments_response r ON r.id = a.response_id
        JOIN assessments_wave w ON w.id = r.wave_id
        JOIN relationships_dyad d ON d.id = r.dyad_id
        JOIN relationships_participant p ON p.id = r.respondent_id
        JOIN assessments_item i ON i.id = a.item_id
        WHERE w.cohort_id = {int(cohort_id)} AND r.status = 'submitted'
        ORDER BY w.number, d.research_code, r.role, i.id
    ) TO STDOUT WITH CSV"""
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(sql, io.StringIO())


def bench_delivery() -> list[Row]:
    from bench.delivery_bench import bench_delivery as rows

    return rows()


def bench_submit() -> list[Row]:
    from bench.submit_bench import bench_submits

    return bench_submits()


def bench_scale() -> list[Row]:
    from bench.scale_bench import bench_exports, bench_recompute_memory

    return bench_exports() + bench_recompute_memory()


BENCHMARKS = {
    "recompute": bench_recompute,
    "dashboard": bench_dashboard,
    "export": bench_export,
    "load": bench_load,
    "delivery": bench_delivery,
    "submit": bench_submit,
    "scale": bench_scale,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dyads", type=int, default=2000)
    parser.add_argument("--waves", type=int, default=6)
    parser.add_argument(
        "--scale-dyads",
        type=int,
        default=10_000,
        help="dyads of the scale cohort (10,000 x 6 waves: about 106,000 responses)",
    )
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    options = parser.parse_args()
    setup_django()
    from django.db import connection

    print(f"database: {connection.vendor}")
    build(options.dyads, options.waves, options.scale_dyads)
    rows: list[Row] = []
    for name in options.only or BENCHMARKS:
        rows += BENCHMARKS[name]()
    print_table(rows)


def print_table(rows: list[Row]) -> None:
    header = Row("benchmark", "measured", "budget", "baseline (same run)", "ratio", "")
    table = [header, *rows]
    widths = [max(len(getattr(r, f)) for r in table) for f in Row.__dataclass_fields__]
    for row in table:
        cells = [getattr(row, f) for f in Row.__dataclass_fields__]
        print("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)))


if __name__ == "__main__":
    main()
