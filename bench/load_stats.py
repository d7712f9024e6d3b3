"""Measurements of the survey load test: latency samples, phases, and the rows they make.

Part of ``bench/load_bench.py``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from bench.rows import Row

P95_BUDGET_MS = 150
KINDS = (("GET", "survey page GET"), ("POST", "autosave POST"))


@dataclass
class Samples:
    """Latencies (seconds) of successful requests, and failures, of one request kind."""

    times: list[float] = field(default_factory=list)
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)

    def add(self, started: float, ok: bool, detail: str = "") -> None:
        if ok:
            self.times.append(time.perf_counter() - started)
            return
        self.errors += 1
        if len(self.error_examples) < 3:
            self.error_examples.append(detail)

    def merge(self, other: Samples) -> None:
        self.times += other.times
        self.errors += other.errors
        self.error_examples += other.error_examples[: 3 - len(self.error_examples)]

    def percentile_ms(self, share: float) -> float:
        """Nearest-rank percentile: the value at or below which ``share`` of requests fall."""
        if not self.times:
            return math.nan
        ordered = sorted(self.times)
        return 1000 * ordered[max(math.ceil(share * len(ordered)) - 1, 0)]

    @property
    def count(self) -> int:
        return len(self.times) + self.errors


@dataclass
class Phase:
    """What one load phase measured: samples by request kind, wall time, client CPU."""

    samples: dict[str, Samples]
    seconds: float
    client_cpu: float

    def rate(self, kind: str) -> float:
        return self.samples[kind].count / self.seconds


def _latency(samples: Samples) -> str:
    return f"p95 {samples.percentile_ms(0.95):.0f} ms (p50 {samples.percentile_ms(0.5):.0f})"


def budget_rows(paced: Phase, health: Phase, label: str) -> list[Row]:
    """The §8 budget: latency and errors of each request kind at a person's pace."""
    base = health.samples["healthz"]
    rows = []
    for kind, name in KINDS:
        samples = paced.samples[kind]
        p95 = samples.percentile_ms(0.95)
        rows += [
            Row(f"{name}, {label}", _latency(samples), f"p95 < {P95_BUDGET_MS} ms",
                f"/healthz {_latency(base)}", f"{p95 / base.percentile_ms(0.95):.1f}x",
                "ok" if p95 < P95_BUDGET_MS and samples.errors == 0 else "OVER"),
            Row(f"{name}, errors; throughput",
                f"{samples.errors} of {samples.count:,}; {paced.rate(kind):.0f} req/s", "0 errors",
                "", "", "ok" if samples.errors == 0 else "ERRORS"),
        ]  # fmt: skip
    return rows


def capacity_rows(flat_out: Phase, health: Phase, users: int) -> list[Row]:
    """No pause at all: ``users`` requests always in flight, so latency is mostly queueing."""
    base = health.samples["healthz"]
    rows = [
        Row(f"{name}, capacity: {users} in flight, no pause", _latency(flat_out.samples[kind]),
            "-", f"/healthz {_latency(base)}",
            f"{flat_out.samples[kind].percentile_ms(0.95) / base.percentile_ms(0.95):.1f}x", "")
        for kind, name in KINDS
    ]  # fmt: skip
    errors = sum(flat_out.samples[kind].errors for kind, _name in KINDS)
    rows.append(
        Row(
            "survey capacity: GET + POST per second",
            f"{flat_out.rate('GET'):.0f} + {flat_out.rate('POST'):.0f} req/s, {errors} errors",
            "-",
            f"/healthz {health.rate('healthz'):,.0f} req/s, {base.errors} errors",
            "",
            "",
        )
    )
    return rows
