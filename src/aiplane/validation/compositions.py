"""Semantic checks of Pipeline Compositions beyond their own CRD: what Crossplane and its functions
would only reject (or silently get wrong) at runtime.

Per Composition: `mode: Pipeline`, function-auto-ready last, every step `input` valid against its
function's input CRD. Per function-patch-and-transform step: unique resource names, PatchSets that
exist, patch paths that resolve in the XR and MR schemas with fitting types (see `patches`), and each
`base` valid against its MR schema once every field a patch writes is treated as present.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard

from aiplane.validation.fieldpath import (
    Segment,
    format_field_path,
    has_path,
    object_schema,
    parse_field_path,
    resolve_schema,
)
from aiplane.validation.findings import Finding, Location, Severity
from aiplane.validation.patches import (
    COMPOSED,
    COMPOSITE,
    DEFAULT_PATCH_TYPE,
    ENVIRONMENT,
    PATCH_SET,
    Side,
    check_patch,
    fill_placeholder,
    writes_composed,
)

if TYPE_CHECKING:
    from aiplane.validation.kinds import KindSchema
    from aiplane.validation.registry import SchemaRegistry

PT_GROUP = "pt.fn.crossplane.io"
AUTO_READY_GROUP = "autoready.fn.crossplane.io"
AUTO_READY_FUNCTION = "function-auto-ready"
# Readiness checks that read a field of the composed resource.
_FIELD_READINESS = ("MatchString", "MatchInteger", "NonEmpty", "MatchTrue", "MatchFalse")
# PatchSets of one P&T input: name -> (index in patchSets, patches).
_PatchSets = dict[str, tuple[int, list[Any]]]


def _mapping(value: Any) -> Mapping[str, Any]:
    """The value if it is a mapping, else an empty one: malformed parts are the schema check's business."""
    return value if isinstance(value, Mapping) else {}


def _group(api_version: Any) -> str:
    return str(api_version).rpartition("/")[0] if isinstance(api_version, str) else ""


def _join(prefix: str, field_path: str) -> str:
    if not field_path:
        return prefix
    return f"{prefix}{field_path}" if field_path.startswith("[") else f"{prefix}.{field_path}"


def _is_under(field_path: str, parents: Iterable[str]) -> bool:
    return any(field_path == p or field_path.startswith((f"{p}.", f"{p}[")) for p in parents)


@dataclass
class _Report:
    """Findings about one Composition document, all attributed to it."""

    obj: Mapping[str, Any]
    location: Location
    findings: list[Finding] = field(default_factory=list)

    def _identity(self) -> dict[str, Any]:
        meta = _mapping(self.obj.get("metadata"))
        return {
            "path": self.location.path,
            "index": self.location.index,
            "line": self.location.line,
            "api_version": str(self.obj.get("apiVersion", "")),
            "kind": str(self.obj.get("kind", "")),
            "name": str(meta.get("name", "")),
            "namespace": str(meta.get("namespace", "")),
        }

    def add(self, severity: Severity, check: str, message: str, field_path: str) -> None:
        self.findings.append(
            Finding(severity=severity, check=check, message=message, field=field_path, **self._identity())
        )

    def adopt(self, found: Iterable[Finding], prefix: str, context: str) -> None:
        """Take findings about an embedded object (step input, base) as findings about this Composition."""
        identity = self._identity()
        for f in found:
            self.findings.append(
                dataclasses.replace(
                    f, field=_join(prefix, f.field), message=f"{context}: {f.message}", **identity
                )
            )

    def unique(self) -> list[Finding]:
        # PatchSets applied to several resources repeat the same composite-side findings.
        seen: set[tuple[str, str, str]] = set()
        out = []
        for f in self.findings:
            key = (str(f.severity), f.field, f.message)
            if key not in seen:
                seen.add(key)
                out.append(f)
        return out


@dataclass
class _Pipeline:
    """What earlier steps left for later ones: composed resources by name, and whether an unknown
    function (which may compose anything) ran."""

    reg: SchemaRegistry
    report: _Report
    composite: Side
    composed: dict[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)
    opaque_step_seen: bool = False


def check_composition(obj: dict[str, Any], reg: SchemaRegistry, location: Location) -> list[Finding]:
    """Semantic findings for one apiextensions.crossplane.io/v1 Composition (see the module docstring)."""
    report = _Report(obj, location)
    spec = _mapping(obj.get("spec"))
    mode = spec.get("mode", "Pipeline")
    if mode != "Pipeline":
        report.add(
            Severity.ERROR,
            "composition",
            f"mode {mode!r} is not supported: Crossplane v2 only runs mode: Pipeline (function pipelines)",
            "spec.mode",
        )
    pipeline = spec.get("pipeline")
    if not isinstance(pipeline, list) or not pipeline:
        report.add(
            Severity.ERROR,
            "composition",
            "a Pipeline Composition needs at least one step in spec.pipeline",
            "spec.pipeline",
        )
        return report.unique()
    steps = [(i, _mapping(step)) for i, step in enumerate(pipeline)]
    _check_auto_ready_last(steps, report)
    state = _Pipeline(reg, report, _composite_side(spec, reg, report))
    for i, step in steps:
        step_input = step.get("input")
        if isinstance(step_input, Mapping):
            _validate_input(step_input, i, step, reg, report)
        if _is_patch_and_transform(step_input):
            _check_pt_input(step_input, i, str(step.get("step", i)), state)
        elif not _is_auto_ready(step):
            state.opaque_step_seen = True
    return report.unique()


def _is_auto_ready(step: Mapping[str, Any]) -> bool:
    name = _mapping(step.get("functionRef")).get("name")
    return (isinstance(name, str) and AUTO_READY_FUNCTION in name) or _group(
        _mapping(step.get("input")).get("apiVersion")
    ) == AUTO_READY_GROUP


def _is_patch_and_transform(step_input: Any) -> TypeGuard[Mapping[str, Any]]:
    return (
        isinstance(step_input, Mapping)
        and _group(step_input.get("apiVersion")) == PT_GROUP
        and step_input.get("kind") == "Resources"
    )


def _check_auto_ready_last(steps: list[tuple[int, Mapping[str, Any]]], report: _Report) -> None:
    last = len(steps) - 1
    for i, step in steps:
        if i != last and _is_auto_ready(step):
            report.add(
                Severity.ERROR,
                "composition",
                f"function-auto-ready step {step.get('step', i)!r} must be the last step (it is step "
                f"{i + 1} of {last + 1}); resources composed after it are never marked ready",
                f"spec.pipeline[{i}]",
            )


def _composite_side(spec: Mapping[str, Any], reg: SchemaRegistry, report: _Report) -> Side:
    ref = _mapping(spec.get("compositeTypeRef"))
    api_version, kind = ref.get("apiVersion"), ref.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return Side("the XR", None)  # the Composition's schema check reports the missing field
    label = f"the XR schema of {api_version} {kind}"
    found = reg.lookup(api_version, kind)
    if found is None:
        report.add(
            Severity.NOT_EVALUATED,
            "composition",
            f"XRD for {api_version} {kind} not found among the inputs or --crds folders; patch paths "
            "into the XR are not checked",
            "spec.compositeTypeRef",
        )
        return Side(label, None)
    return Side(label, object_schema(found.schema, composite=True))


def _validate_input(
    step_input: Mapping[str, Any], i: int, step: Mapping[str, Any], reg: SchemaRegistry, report: _Report
) -> None:
    from aiplane.validation import validate_object  # the package imports this module

    api_version, kind = step_input.get("apiVersion"), step_input.get("kind")
    prefix = f"spec.pipeline[{i}].input"
    name = step.get("step", i)
    if not isinstance(api_version, str) or not isinstance(kind, str):
        report.add(
            Severity.ERROR, "composition", f"the input of step {name!r} needs apiVersion and kind", prefix
        )
        return
    if reg.lookup(api_version, kind) is None:
        report.add(
            Severity.NO_SCHEMA,
            "composition",
            f"no input CRD for {api_version} {kind} (step "
            f"{name!r}) among the shipped CRDs or --crds folders; the input is not validated",
            prefix,
        )
        return
    report.adopt(validate_object(dict(step_input), reg, report.location), prefix, f"input of step {name!r}")


def _check_pt_input(step_input: Mapping[str, Any], i: int, step_name: str, state: _Pipeline) -> None:
    prefix = f"spec.pipeline[{i}].input"
    patch_sets = _patch_sets(step_input, prefix, state.report)
    environment = Side("the environment", None)
    env_patches = _mapping(step_input.get("environment")).get("patches")
    for m, patch in enumerate(env_patches if isinstance(env_patches, list) else []):
        if isinstance(patch, Mapping):
            sides = {COMPOSITE: state.composite, COMPOSED: environment, ENVIRONMENT: environment}
            _report_patch(patch, sides, f"{prefix}.environment.patches[{m}]", "", state.report)
    resources = step_input.get("resources")
    names: dict[str, int] = {}
    composed_here: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for j, resource in enumerate(resources if isinstance(resources, list) else []):
        if not isinstance(resource, Mapping):
            continue
        rprefix = f"{prefix}.resources[{j}]"
        name = str(resource.get("name", ""))
        if name and name in names:
            state.report.add(
                Severity.ERROR,
                "composition",
                f"resource name {name!r} is also used by "
                f"resources[{names[name]}]; resource names must be unique",
                f"{rprefix}.name",
            )
        names.setdefault(name, j)
        base = resource.get("base")
        if isinstance(base, Mapping) and name in state.composed:
            state.report.add(
                Severity.ERROR,
                "composition",
                f"resource {name!r} is already composed by step {state.composed[name][0]!r}; "
                "omit base to patch it, or give it another name",
                f"{rprefix}.name",
            )
        _check_resource(resource, name, rprefix, prefix, patch_sets, state)
        if isinstance(base, Mapping):
            composed_here[name] = (step_name, base)
    state.composed.update(composed_here)


def _patch_sets(step_input: Mapping[str, Any], prefix: str, report: _Report) -> _PatchSets:
    """PatchSets by name with their index; duplicate names and nested PatchSet patches are reported."""
    found: _PatchSets = {}
    raw = step_input.get("patchSets")
    for k, patch_set in enumerate(raw if isinstance(raw, list) else []):
        ps = _mapping(patch_set)
        name = str(ps.get("name", ""))
        patches: list[Any] = ps["patches"] if isinstance(ps.get("patches"), list) else []
        if name in found:
            report.add(
                Severity.ERROR,
                "patch",
                f"PatchSet name {name!r} is also used by patchSets[{found[name][0]}]",
                f"{prefix}.patchSets[{k}].name",
            )
            continue
        found[name] = (k, patches)
        for m, patch in enumerate(patches):
            if _mapping(patch).get("type") == PATCH_SET:
                report.add(
                    Severity.ERROR,
                    "patch",
                    "patches inside patchSets cannot be of type PatchSet",
                    f"{prefix}.patchSets[{k}].patches[{m}].type",
                )
    return found


def _expand_patches(
    resource: Mapping[str, Any], rprefix: str, prefix: str, patch_sets: _PatchSets, report: _Report
) -> list[tuple[Mapping[str, Any], str, str]]:
    """The resource's patches with PatchSet references replaced by their patches: (patch, field, set name)."""
    out: list[tuple[Mapping[str, Any], str, str]] = []
    patches = resource.get("patches")
    for k, patch in enumerate(patches if isinstance(patches, list) else []):
        if not isinstance(patch, Mapping):
            continue
        pfield = f"{rprefix}.patches[{k}]"
        if patch.get("type", DEFAULT_PATCH_TYPE) != PATCH_SET:
            out.append((patch, pfield, ""))
            continue
        set_name = patch.get("patchSetName")
        if not isinstance(set_name, str) or not set_name:
            report.add(
                Severity.ERROR, "patch", "a PatchSet patch needs patchSetName", f"{pfield}.patchSetName"
            )
        elif set_name not in patch_sets:
            defined = ", ".join(sorted(patch_sets)) or "none"
            report.add(
                Severity.ERROR,
                "patch",
                f"PatchSet {set_name!r} is not defined in patchSets (defined: {defined})",
                f"{pfield}.patchSetName",
            )
        else:
            k_set, set_patches = patch_sets[set_name]
            out.extend(
                (p, f"{prefix}.patchSets[{k_set}].patches[{m}]", set_name)
                for m, p in enumerate(set_patches)
                if isinstance(p, Mapping) and p.get("type") != PATCH_SET
            )
    return out


def _composed_side(
    resource: Mapping[str, Any], name: str, rprefix: str, state: _Pipeline
) -> tuple[Side, KindSchema | None]:
    """The schema patches into this resource resolve in: its own base, or an earlier step's."""
    base = resource.get("base")
    if not isinstance(base, Mapping):
        earlier = state.composed.get(name)
        if earlier is None:
            if not state.opaque_step_seen:
                state.report.add(
                    Severity.ERROR,
                    "composition",
                    f"resource {name!r} has no base and no earlier step composes it",
                    f"{rprefix}.base",
                )
            return Side(f"resource {name!r}", None), None
        base = earlier[1]
    api_version, kind = base.get("apiVersion"), base.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        state.report.add(Severity.ERROR, "composition", "a base needs apiVersion and kind", f"{rprefix}.base")
        return Side(f"resource {name!r}", None), None
    found = state.reg.lookup(api_version, kind)
    if found is None:
        if "base" in resource:
            state.report.add(
                Severity.NO_SCHEMA,
                "composition",
                f"no CRD for {api_version} {kind} among the shipped CRDs or --crds folders; the "
                f"base of resource {name!r} and patch paths into it are not checked",
                f"{rprefix}.base",
            )
        return Side(f"{api_version} {kind}", None), None
    return Side(f"the schema of {api_version} {kind}", object_schema(found.schema)), found


def _check_resource(
    resource: Mapping[str, Any],
    name: str,
    rprefix: str,
    prefix: str,
    patch_sets: _PatchSets,
    state: _Pipeline,
) -> None:
    composed, kind_schema = _composed_side(resource, name, rprefix, state)
    sides = {COMPOSITE: state.composite, COMPOSED: composed, ENVIRONMENT: Side("the environment", None)}
    writes: list[list[Segment]] = []
    for patch, pfield, set_name in _expand_patches(resource, rprefix, prefix, patch_sets, state.report):
        via = f" (PatchSet {set_name!r} applied to resource {name!r})" if set_name else ""
        _report_patch(patch, sides, pfield, via, state.report)
        written = writes_composed(patch)
        if written is not None:
            writes.append(written)
    if composed.schema is not None:
        _check_field_refs(resource, composed, rprefix, state.report)
    base = resource.get("base")
    if isinstance(base, Mapping) and kind_schema is not None and composed.schema is not None:
        _validate_base(base, name, composed.schema, writes, rprefix, state)


def _report_patch(
    patch: Mapping[str, Any], sides: Mapping[str, Side], pfield: str, via: str, report: _Report
) -> None:
    for issue in check_patch(patch, sides):
        context = via if issue.side == COMPOSED else ""
        report.add(issue.severity, "patch", issue.message + context, _join(pfield, issue.field))


def _check_field_refs(resource: Mapping[str, Any], composed: Side, rprefix: str, report: _Report) -> None:
    """Readiness checks and connection details that read a field of the composed resource."""
    assert composed.schema is not None
    refs: list[tuple[Any, str]] = []
    checks = resource.get("readinessChecks")
    for r, check in enumerate(checks if isinstance(checks, list) else []):
        if _mapping(check).get("type") in _FIELD_READINESS:
            refs.append((_mapping(check).get("fieldPath"), f"{rprefix}.readinessChecks[{r}].fieldPath"))
    details = resource.get("connectionDetails")
    for c, detail in enumerate(details if isinstance(details, list) else []):
        if _mapping(detail).get("type") == "FromFieldPath":
            refs.append(
                (_mapping(detail).get("fromFieldPath"), f"{rprefix}.connectionDetails[{c}].fromFieldPath")
            )
    for path, ref_field in refs:
        if not isinstance(path, str) or not path:
            report.add(Severity.ERROR, "patch", "a field path is required here", ref_field)
            continue
        try:
            segments = parse_field_path(path)
        except ValueError as err:
            report.add(Severity.ERROR, "patch", f"not a valid field path: {err}", ref_field)
            continue
        if resolve_schema(composed.schema, segments) is None:
            report.add(Severity.ERROR, "patch", f"{path!r} does not exist in {composed.label}", ref_field)


def _validate_base(
    base: Mapping[str, Any],
    name: str,
    schema: Mapping[str, Any],
    writes: list[list[Segment]],
    rprefix: str,
    state: _Pipeline,
) -> None:
    """Validate the base as it will be once patched: every written field holds a value of its type."""
    from aiplane.validation import validate_object  # the package imports this module

    patched = copy.deepcopy(dict(base))
    filled: list[list[Segment]] = []
    for segments in writes:
        if resolve_schema(schema, segments) is not None:  # a path that does not resolve is already reported
            filled.extend(fill_placeholder(patched, segments, schema))
    # Crossplane names composed resources itself; a base needs no name of its own.
    if not has_path(patched, ["metadata", "name"]):
        filled.extend(fill_placeholder(patched, ["metadata", "name"], schema))
    placeholders = [format_field_path(f) for f in filled]
    found = [
        f
        for f in validate_object(patched, state.reg, state.report.location)
        if not _is_under(f.field, placeholders)
    ]
    state.report.adopt(found, f"{rprefix}.base", f"base of resource {name!r}")
