"""Write the example utilization history shipped for `aiplane rightsize --backtest` (docs/rightsizing.md):

    .venv/bin/python scripts/generate_example_history.py

SYNTHETIC: generated, seeded, no account's real data. Five weeks of hourly samples, in the export format
(aiplane.rightsizing.export), for the prod endpoint chat-assistant (ml.g5.2xlarge): invocations with a
weekday business-hours cycle (a morning and an afternoon peak, UTC), quiet nights and weekends, 2 % growth
a week, ±10 % noise, and one unforecastable burst (a Wednesday evening campaign in the last week); CPU and
GPU utilization and GPU memory follow the load, so `aiplane rightsize` reads the same file. Same seed, same
bytes.
"""

from __future__ import annotations

import csv
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 19
WEEKS = 5
END = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday 00:00 UTC: the history is whole weeks
OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "histories" / "prod-chat-assistant.synthetic.csv"
ENDPOINT = "chat-assistant"
NIGHT_PER_MINUTE = 40.0
PEAK_PER_MINUTE = 420.0


def shape(at: datetime) -> float:
    """Relative load 0-1 of an hour: two weekday peaks (10:00 and 15:00 UTC), a low weekend plateau."""
    hour = at.hour + 0.5
    day = math.exp(-((hour - 10) / 1.8) ** 2) + 0.8 * math.exp(-((hour - 15) / 2.0) ** 2)
    return (0.25 * day) if at.weekday() >= 5 else day


def main() -> None:
    rng = random.Random(SEED)
    start = END - timedelta(weeks=WEEKS)
    burst_from = END - timedelta(days=4, hours=5)  # Wednesday 19:00 UTC of the last week
    rows = []
    for i in range(WEEKS * 7 * 24):
        at = start + timedelta(hours=i)
        growth = 1.02 ** (i / 168)
        per_minute = (NIGHT_PER_MINUTE + (PEAK_PER_MINUTE - NIGHT_PER_MINUTE) * shape(at)) * growth
        per_minute *= 1 + rng.uniform(-0.10, 0.10)
        if burst_from <= at < burst_from + timedelta(hours=3):
            per_minute += 250
        invocations = round(per_minute * 60)
        # ~100 invocations per instance-minute keep one g5.2xlarge's GPU 60 % busy; instances follow the load.
        instances = max(1, math.ceil(per_minute * 1.2 / 100))
        gpu = min(95.0, 60.0 * per_minute / (instances * 100))
        rows += [
            (at, "invocations", invocations),
            (at, "instances", instances),
            (at, "gpu_utilization", round(gpu, 1)),
            (at, "gpu_memory_used_gib", round(14.5 + rng.uniform(0, 1.5), 2)),
            # Tokenization and the HTTP server keep the vCPUs nearly as busy as the GPU.
            (at, "cpu_utilization", round(gpu * 0.9 + 5 + rng.uniform(0, 3), 1)),
        ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["timestamp", "workload", "kind", "metric", "value"])
        for at, metric, value in rows:
            writer.writerow([at.strftime("%Y-%m-%dT%H:%M:%SZ"), ENDPOINT, "ModelEndpoint", metric, value])
    print(f"wrote {len(rows)} synthetic samples to {OUT.relative_to(OUT.parents[2])}")


if __name__ == "__main__":
    main()
