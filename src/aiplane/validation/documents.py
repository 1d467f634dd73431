"""validate_documents: every object of a set of documents, with the CRDs and XRDs among them registered
first, and Compositions and XRDs also given their Crossplane-specific checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from aiplane.validation.checker import validate_object
from aiplane.validation.findings import Finding, Location, Severity
from aiplane.validation.registry import SchemaRegistry, is_crd, is_xrd
from aiplane.validation.report import ValidationReport
from aiplane.yamlio import Document

COMPOSITION_API_VERSION = "apiextensions.crossplane.io/v1"


def _located(docs: Sequence[Document] | Sequence[Any]) -> list[tuple[Any, Location]]:
    return [
        (d.obj, Location(d.path, d.index, d.line)) if isinstance(d, Document) else (d, Location(index=i))
        for i, d in enumerate(docs)
    ]


def _register(items: list[tuple[Any, Location]], reg: SchemaRegistry) -> list[Finding]:
    """Add every CRD and XRD among the inputs to the registry, so objects of their kinds validate."""
    problems = []
    for obj, loc in items:
        try:
            if is_crd(obj):
                reg.add_crd(obj, loc.path)
            elif is_xrd(obj):
                reg.add_xrd(obj, loc.path)
            else:
                continue
        except (ValueError, TypeError, AttributeError) as err:
            problems.append(
                Finding(
                    Severity.ERROR,
                    "schema",
                    f"cannot register its kind: {err}",
                    path=loc.path,
                    index=loc.index,
                    line=loc.line,
                    api_version=str(obj.get("apiVersion", "")),
                    kind=str(obj.get("kind", "")),
                )
            )
    return problems


def _crossplane_checks(obj: Any, reg: SchemaRegistry, loc: Location) -> list[Finding]:
    """Composition pipeline / patch checks and XRD rules (aiplane.validation.compositions, .xrds)."""
    if not isinstance(obj, dict):
        return []
    check: Callable[[], list[Finding]]
    if obj.get("kind") == "Composition" and obj.get("apiVersion") == COMPOSITION_API_VERSION:
        from aiplane.validation.compositions import check_composition

        name, check = "composition", partial(check_composition, obj, reg, loc)
    elif is_xrd(obj):
        from aiplane.validation.xrds import check_xrd

        name, check = "xrd", partial(check_xrd, obj, loc)
    else:
        return []
    try:
        return check()
    except Exception as err:  # fail closed: a check that crashes is a finding, not a pass
        return [
            Finding(
                Severity.ERROR,
                name,
                f"check failed to run: {type(err).__name__}: {err}",
                path=loc.path,
                index=loc.index,
                line=loc.line,
                api_version=str(obj.get("apiVersion", "")),
                kind=str(obj.get("kind", "")),
            )
        ]


def _unnamed(obj: Any, loc: Location) -> list[Finding]:
    """An object read from a file without metadata.name cannot be applied from Git (Flux applies server-side, which needs
    a name; `generateName` only works with create), though the schemas of most kinds allow it."""
    if not isinstance(obj, dict) or not obj.get("kind") or loc.line is None:
        return []  # only objects read from files: composed resources rendered in memory get theirs from Crossplane
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if isinstance(name, str) and name:
        return []
    return [
        Finding(
            Severity.ERROR,
            "schema",
            "metadata.name is required: an object without a name cannot be applied",
            path=loc.path,
            index=loc.index,
            line=loc.line,
            api_version=str(obj.get("apiVersion", "")),
            kind=str(obj.get("kind", "")),
        )
    ]


def validate_documents(
    docs: Sequence[Document] | Sequence[Any],
    reg: SchemaRegistry,
    *,
    strict: bool = False,
    failing_only: bool = False,
) -> ValidationReport:
    """Validate every object (schema + CEL, plus the Crossplane checks) into one report. `failing_only`: only
    the findings that fail (no skipped transition rules, no warnings), for a caller that reports only failures
    (`check`, `synth`); the report's counts then count only what is in it."""
    items = _located(docs)
    findings = _register(items, reg)
    for obj, loc in items:
        findings.extend(_unnamed(obj, loc))
        # Left out before they are made where most are: every XR's skipped transition rules.
        findings.extend(validate_object(obj, reg, loc, failing_only=strict if failing_only else None))
        findings.extend(_crossplane_checks(obj, reg, loc))
    if failing_only:
        findings = [f for f in findings if f.fails(strict)]
    return ValidationReport(findings, objects=len(items), strict=strict)
