"""Shared helpers for the validation tests: fixture objects and a small custom CRD."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from aiplane.validation import Finding, Severity
from aiplane.yamlio import load_documents, load_paths

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VALID = FIXTURES / "valid"


def fixture(name: str, index: int = 0) -> dict[str, Any]:
    """A deep copy of one object of tests/fixtures/valid, safe to mutate."""
    return copy.deepcopy(load_documents(VALID / name)[index].obj)


def all_valid_objects() -> list[Any]:
    return [doc.obj for doc in load_paths([VALID])]


def failing(findings: list[Finding]) -> list[tuple[str, str]]:
    """(field, message) of the error findings."""
    return [(f.field, f.message) for f in findings if f.severity is Severity.ERROR]


def widget_crd(
    version_schema: dict[str, Any],
    *,
    group: str = "test.aiplane.io",
    kind: str = "Widget",
    scope: str = "Namespaced",
    deprecated: bool = False,
) -> dict[str, Any]:
    """A CRD serving `v1` of `kind` with `spec` described by `version_schema`."""
    version: dict[str, Any] = {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": {
            "openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"type": "object"},
                    "spec": version_schema,
                },
            }
        },
    }
    if deprecated:
        version["deprecated"] = True
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{kind.lower()}s.{group}"},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"kind": kind, "plural": f"{kind.lower()}s", "singular": kind.lower()},
            "versions": [version],
        },
    }


def widget(spec: Any, name: str = "w") -> dict[str, Any]:
    return {
        "apiVersion": "test.aiplane.io/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": spec,
    }
