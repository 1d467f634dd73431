"""Utilization history from Prometheus through its HTTP API (`GET /api/v1/query_range`), for clusters that
scrape NVIDIA's DCGM exporter.

- Metrics (NVIDIA dcgm-exporter, etc/default-counters.csv; DCGM field reference): `DCGM_FI_DEV_GPU_UTIL`,
  gauge, GPU utilization in %; `DCGM_FI_DEV_FB_USED`, gauge, framebuffer (GPU) memory used in MiB. Both are
  per GPU; the exporter labels each series with the node's host name (`Hostname`).
- Node groups: the exporter does not know them. EKS labels every node of a managed node group
  `eks.amazonaws.com/nodegroup=<node group name>`; the scrape configuration must copy that node label onto the
  DCGM series (e.g. a relabeling to `nodegroup`, the default of --prometheus-label). Prometheus label names
  cannot hold `.` or `/`, hence a relabeled name.
- Response format (Prometheus HTTP API): `{"status": "success", "data": {"resultType": "matrix", "result":
  [{"metric": {<labels>}, "values": [[<unix seconds>, "<value>"], ...]}]}}`; errors carry
  `"status": "error", "errorType", "error"`. A range query returns at most 11,000 points per series, so the
  hourly step covers 458 days.

Each query takes the hour's maximum (`max_over_time(...[1h])`) at an hourly step, as CloudWatch's Maximum
over a 3600 s period does, so both sources fill the same history.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from aiplane.audit.declared import DeclaredState
from aiplane.function.revisions import revision_base
from aiplane.rightsizing.history import (
    GPU_MEMORY_USED_GIB,
    GPU_UTILIZATION,
    INSTANCES,
    SAMPLE_SECONDS,
    History,
    Sample,
    Window,
    Workload,
)

DEFAULT_NODEGROUP_LABEL = "nodegroup"
NODE_LABEL = "Hostname"
MIB_PER_GIB = 1024
TIMEOUT_SECONDS = 60.0


class PrometheusError(Exception):
    """Prometheus could not be asked, or refused the query: exit status 2."""


def queries(label: str) -> dict[str, tuple[str, float]]:
    """Canonical metric → (PromQL, scale) for one node-group label."""
    return {
        GPU_UTILIZATION: (f"max by ({label}) (max_over_time(DCGM_FI_DEV_GPU_UTIL[1h]))", 1.0),
        GPU_MEMORY_USED_GIB: (f"max by ({label}) (max_over_time(DCGM_FI_DEV_FB_USED[1h]))", 1 / MIB_PER_GIB),
        # Nodes with any GPU series in the hour.
        INSTANCES: (
            f"count by ({label}) (max by ({label}, {NODE_LABEL}) (max_over_time(DCGM_FI_DEV_GPU_UTIL[1h])))",
            1.0,
        ),
    }


def read_prometheus(declared: DeclaredState, url: str, window: Window, label: str = DEFAULT_NODEGROUP_LABEL) -> History:
    history = History(f"prometheus {url}", window)
    pool_of = {revision_base(ng.name): Workload("GPUNodePool", ng.origin.name) for ng in declared.node_groups}
    unknown: set[str] = set()
    for metric, (promql, scale) in queries(label).items():
        per_pool: dict[Workload, dict[datetime, float]] = {}
        for series in query_range(url, promql, window):
            group = str(series.get("metric", {}).get(label, ""))
            pool = pool_of.get(revision_base(group))
            if pool is None:
                unknown.add(group or f"(no {label} label)")
                continue
            per_hour = per_pool.setdefault(pool, {})
            for at, raw in series.get("values", []):
                when, value = datetime.fromtimestamp(float(at), UTC), float(raw) * scale
                # A pool's on-demand and spot node groups: node counts add up, utilization keeps the busiest.
                per_hour[when] = per_hour.get(when, 0.0) + value if metric == INSTANCES else max(
                    per_hour.get(when, value), value)
        for pool, per_hour in per_pool.items():
            history.add(pool, metric, [Sample(t, v) for t, v in per_hour.items()])
    if unknown:
        history.notes.append(f"series of node groups not declared in this environment were ignored: "
                             f"{', '.join(sorted(unknown))}")
    return history


def query_range(url: str, promql: str, window: Window) -> list[dict[str, Any]]:
    """The `result` of one range query (resultType matrix); PrometheusError for anything else."""
    params = urllib.parse.urlencode(
        {"query": promql, "start": f"{window.start.timestamp():.0f}",
         "end": f"{window.end.timestamp() - SAMPLE_SECONDS:.0f}", "step": f"{SAMPLE_SECONDS}s"}
    )
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PrometheusError(f"--prometheus-url is not an http(s) URL: {url[:200]!r}")
    endpoint = f"{url.rstrip('/')}/api/v1/query_range?{params}"
    try:
        with urllib.request.urlopen(endpoint, timeout=TIMEOUT_SECONDS) as response:
            body = response.read()
    except urllib.error.HTTPError as err:
        detail = _error_text(err.read())
        raise PrometheusError(f"Prometheus at {url} answered HTTP {err.code}{detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise PrometheusError(f"cannot reach Prometheus at {url}: {reason}") from None
    try:
        answer = json.loads(body)
    except ValueError:
        raise PrometheusError(f"Prometheus at {url} did not answer JSON (is it the Prometheus API?)") from None
    if not isinstance(answer, dict) or answer.get("status") != "success":
        raise PrometheusError(f"Prometheus at {url} refused the query{_error_text(body)}")
    data = answer.get("data") or {}
    if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
        raise PrometheusError(f"Prometheus at {url} did not answer a range query's matrix")
    return list(data["result"])


def _error_text(body: bytes) -> str:
    try:
        answer = json.loads(body)
        return f": {answer.get('errorType', 'error')}: {answer.get('error', '')}"[:300]
    except (ValueError, AttributeError):
        return ""
