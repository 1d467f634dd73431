"""What the conformance suite judges: the XRDs, Compositions and XRs in manifests/, and the CRDs aiplane ships."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from aiplane.crossplane.composed import composed_resources

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "manifests"
CRDS = ROOT / "src" / "aiplane" / "data" / "crds"


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


@cache
def xrds() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) of each XR type → its XRD."""
    out = {}
    for path in sorted((MANIFESTS / "platform").rglob("*.yaml")):
        for doc in _docs(path):
            if doc.get("kind") == "CompositeResourceDefinition":
                spec = doc["spec"]
                for version in spec["versions"]:
                    out[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = doc
    return out


@cache
def compositions() -> list[dict[str, Any]]:
    return [
        doc
        for path in sorted((MANIFESTS / "platform").rglob("*.yaml"))
        for doc in _docs(path)
        if doc.get("kind") == "Composition"
    ]


@dataclass(frozen=True)
class Case:
    """One XR from manifests/environments rendered through one Composition that can serve it."""

    xr_file: Path
    composition: str

    @property
    def id(self) -> str:
        return f"{self.xr_file.parent.name}/{self.xr_file.stem}@{self.composition}"

    def xr(self) -> dict[str, Any]:
        return _docs(self.xr_file)[0]

    def composition_object(self) -> dict[str, Any]:
        return next(c for c in compositions() if c["metadata"]["name"] == self.composition)

    def xrd(self) -> dict[str, Any]:
        xr = self.xr()
        return xrds()[(xr["apiVersion"], xr["kind"])]


def cases() -> list[Case]:
    """Every XR of every environment with every Composition whose compositeTypeRef matches it."""
    out = []
    for path in sorted((MANIFESTS / "environments").rglob("*.yaml")):
        for doc in _docs(path):
            key = (doc.get("apiVersion"), doc.get("kind"))
            if key not in xrds():
                continue
            for comp in compositions():
                ref = comp["spec"]["compositeTypeRef"]
                if (ref["apiVersion"], ref["kind"]) == key:
                    out.append(Case(path, comp["metadata"]["name"]))
    return out


@cache
def crd_schemas() -> dict[tuple[str, str], Mapping[str, Any]]:
    """(apiVersion, kind) → openAPIV3Schema of every served version of the shipped CRDs."""
    out: dict[tuple[str, str], Mapping[str, Any]] = {}
    for path in sorted(CRDS.glob("*.yaml")):
        for doc in _docs(path):
            if doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                out[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = version["schema"][
                    "openAPIV3Schema"
                ]
    return out


def to_composite_targets(composition: Mapping[str, Any]) -> dict[str, list[str]]:
    """P&T resource name → the XR paths its ToCompositeFieldPath patches write."""
    return {
        view.name: [str(p["toFieldPath"]) for p in view.patches if p.get("type") == "ToCompositeFieldPath"]
        for view in composed_resources(composition)
    }
