"""The Prometheus reader against a local HTTP server on 127.0.0.1 answering `/api/v1/query_range` in the
Prometheus API's format, with generated DCGM exporter series for prod's node groups."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from histories import hours

from aiplane.cli import main

# prod's llm-inference pool: an on-demand and a spot node group (EKS names, revision suffixes as composed).
ON_DEMAND, SPOT = "prod-llm-inference-ondemand-1a2b", "prod-llm-inference-spot-3c4d"


def matrix(series: list[tuple[dict[str, str], list[float]]]) -> dict[str, Any]:
    stamps = [at.timestamp() for at in hours(14)]
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": labels, "values": [[t, f"{v:g}"] for t, v in zip(stamps, values, strict=False)]}
        for labels, values in series
    ]}}


def answer(query: str) -> dict[str, Any]:
    n = len(hours(14))
    if query.startswith("count by (nodegroup)"):  # nodes per node group: 2 on-demand, spot 0-2
        return matrix([({"nodegroup": ON_DEMAND}, [2.0] * n),
                       ({"nodegroup": SPOT}, [2.0 if i % 24 == 9 else 0.0 for i in range(n)]),
                       ({"nodegroup": "someone-elses-group"}, [7.0] * n)])
    if "DCGM_FI_DEV_FB_USED" in query:  # MiB
        return matrix([({"nodegroup": ON_DEMAND}, [6144.0] * n), ({"nodegroup": SPOT}, [8192.0] * n)])
    if "DCGM_FI_DEV_GPU_UTIL" in query:
        return matrix([({"nodegroup": ON_DEMAND}, [35.0] * n), ({"nodegroup": SPOT}, [55.0] * n)])
    return {"status": "error", "errorType": "bad_data", "error": f"unexpected query {query}"}


class PrometheusAPI(BaseHTTPRequestHandler):
    queries: list[str] = []

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qs(url.query)
        if url.path != "/api/v1/query_range" or params.get("step") != ["3600s"]:
            self.send_response(400)
            body = json.dumps({"status": "error", "errorType": "bad_data", "error": "not a range query"}).encode()
        else:
            self.queries.append(params["query"][0])
            self.send_response(200)
            body = json.dumps(answer(params["query"][0])).encode()
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def prometheus() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), PrometheusAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_dcgm_history_by_node_group_label(project: Path, prometheus: str) -> None:
    result = CliRunner().invoke(main, ["rightsize", "--env", "prod", "--source", "prometheus",
                                       "--prometheus-url", prometheus, "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    rec = next(r for r in out["recommendations"] if r["name"] == "llm-inference")
    evidence = {e["metric"]: e for e in rec["evidence"]}
    # Node counts of the pool's two node groups add up; utilization and memory keep the busiest.
    assert (evidence["instances"]["max"], evidence["instances"]["p50"]) == (4, 2)
    assert evidence["gpu_utilization"]["max"] == 55
    assert evidence["gpu_memory_used_gib"]["max"] == 8.0  # 8192 MiB
    assert {"field": "scaling.maxSize", "from": 6, "to": 5} in rec["changes"]
    assert any("someone-elses-group" in note for note in out["notes"])


def test_a_prometheus_error_is_exit_2(project: Path, prometheus: str) -> None:
    result = CliRunner().invoke(main, ["rightsize", "--env", "prod", "--source", "prometheus",
                                       "--prometheus-url", prometheus + "/not-prometheus"])
    assert result.exit_code == 2
    assert "answered HTTP 404" in result.stderr or "answered HTTP 400" in result.stderr


def test_prometheus_needs_its_url(project: Path) -> None:
    result = CliRunner().invoke(main, ["rightsize", "--env", "prod", "--source", "prometheus"])
    assert result.exit_code == 2
    assert "--source prometheus needs --prometheus-url URL" in result.stderr
