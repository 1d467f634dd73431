"""What a change does to live resources: every XR rendered to its steady state (`render.settle`) on both
sides, and each composed resource classified as Crossplane and the provider would treat it.

- create / delete: the composed resource exists on one side only;
- update: the same resource with changed fields, none of them ForceNew;
- replace: a content-addressed revision of it (`<name>-<4 hex>`, function-aiplane) replaces it,
  create-before-destroy;
- refused: an in-place change of a ForceNew field (src/aiplane/data/forcenew.yaml), which the provider
  refuses ("refuse to update the external resource because the following update requires replacing it"),
  leaving the XR Synced=False.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiplane.crossplane.forcenew import forcenew_hit
from aiplane.crossplane.immutability import immutable_paths
from aiplane.crossplane.render import select_composition, settle
from aiplane.function.revisions import EXTERNAL_NAME, revision_base

Action = Literal["create", "update", "replace", "delete", "refused"]


@dataclass(frozen=True)
class ResourceChange:
    resource: str  # composition resource name (the new one for a replacement)
    kind: str
    action: Action
    fields: tuple[str, ...] = ()
    forcenew: tuple[str, ...] = ()  # the ForceNew fields of a refused update
    replaces: str | None = None  # the composition resource name a replacement supersedes
    orphaned: bool = False  # a delete of a resource without Delete in its managementPolicies: AWS keeps it


@dataclass(frozen=True)
class XRPlan:
    kind: str
    namespace: str
    name: str
    worst_case_before: float | None
    worst_case_after: float | None
    changes: list[ResourceChange] = field(default_factory=list)
    # Spec fields the XRD makes immutable (`self == oldSelf`) that the change alters: the API server refuses
    # the update of the XR itself, by design.
    immutable_changed: tuple[str, ...] = ()

    @property
    def refused(self) -> bool:
        return bool(self.immutable_changed) or any(c.action == "refused" for c in self.changes)

    @property
    def refused_count(self) -> int:
        return len(self.immutable_changed) + sum(1 for c in self.changes if c.action == "refused")


def changed_fields(old: Any, new: Any, path: str = "") -> list[str]:
    """Leaf paths whose values differ (lists compared whole, as Kubernetes replaces them). An object present
    on one side only is walked to its leaves too, so an added block does not count as a change of every
    field it could hold (a ForceNew field inside it that neither side sets is not changed)."""
    if isinstance(old, Mapping) and new is None:
        new = {}
    if isinstance(new, Mapping) and old is None:
        old = {}
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[str] = []
        for key in sorted({*old, *new}):
            out += changed_fields(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        return out
    return [] if old == new else [path]


def _desired(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What a composed resource asks for: its body (`spec`, or a ConfigMap's `data`), its fixed name if the
    Composition sets one, and its external name; labels and annotations otherwise aside."""
    metadata = obj.get("metadata") or {}
    out = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}
    external = (metadata.get("annotations") or {}).get(EXTERNAL_NAME)
    if external:
        out["externalName"] = external
    if metadata.get("name"):
        out["name"] = metadata["name"]
    return out


def _classify(old: Mapping[str, dict[str, Any]], new: Mapping[str, dict[str, Any]]) -> list[ResourceChange]:
    changes: list[ResourceChange] = []
    old_by_base: dict[str, list[str]] = {}
    for name in old:
        old_by_base.setdefault(revision_base(name), []).append(name)
    matched: set[str] = set()
    for name, obj in new.items():
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        if name in old:
            matched.add(name)
            fields = changed_fields(_desired(old[name]), _desired(obj))
            if not fields:
                continue
            forcenew = sorted({hit for f in fields if (hit := forcenew_hit(api_version, kind, f)) is not None})
            # A new external name is another AWS object under the same Kubernetes one: never in place either.
            renamed = [f for f in fields if f == "externalName"]
            action: Action = "refused" if forcenew or renamed else "update"
            changes.append(ResourceChange(name, kind, action, tuple(fields), tuple(forcenew)))
            continue
        previous = [n for n in old_by_base.get(revision_base(name), []) if n not in new]
        if previous:
            matched.update(previous)
            fields = changed_fields(_desired(old[previous[0]]), _desired(obj))
            changes.append(ResourceChange(name, kind, "replace", tuple(fields), replaces=previous[0]))
        else:
            changes.append(ResourceChange(name, kind, "create"))
    for name, obj in old.items():
        if name not in new and name not in matched:
            policies = (obj.get("spec") or {}).get("managementPolicies")
            orphaned = isinstance(policies, list) and not {"Delete", "*"} & set(policies)
            changes.append(ResourceChange(name, str(obj.get("kind", "")), "delete", orphaned=orphaned))
    return sorted(changes, key=lambda c: (c.resource, c.action))


def xrd_immutable_paths(xrd: Mapping[str, Any]) -> tuple[str, ...]:
    """Spec paths the XRD's schema makes immutable (`self == oldSelf`)."""
    versions = (xrd.get("spec") or {}).get("versions") or [{}]
    schema = (((versions[0].get("schema") or {}).get("openAPIV3Schema") or {}).get("properties") or {}).get("spec") or {}
    return tuple(immutable_paths(schema))


def immutable_changed(
    old_xr: Mapping[str, Any] | None, new_xr: Mapping[str, Any] | None, immutable: Sequence[str]
) -> tuple[str, ...]:
    """Of the immutable spec paths, those whose value differs between the sides."""
    if old_xr is None or new_xr is None:
        return ()
    out = []
    for path in immutable:
        old_value, new_value = _at(old_xr, path), _at(new_xr, path)
        if old_value is not None and new_value is not None and old_value != new_value:
            out.append(path)
    return tuple(out)


def _at(obj: Mapping[str, Any], path: str) -> Any:
    cur: Any = obj
    for key in path.split("."):
        cur = cur.get(key) if isinstance(cur, Mapping) else None
    return cur


def _worst_case(xr: Mapping[str, Any] | None, domain: str) -> float | None:
    value = (((xr or {}).get("metadata") or {}).get("annotations") or {}).get(f"{domain}/worst-case-usd-per-hour")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _composed(
    xr: Mapping[str, Any] | None,
    compositions: Sequence[Mapping[str, Any]],
    live: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    if xr is None:
        return {}
    return {r.name: r.obj for r in settle(xr, select_composition(xr, compositions), live=live).resources}


def plan(
    old_objects: Sequence[Mapping[str, Any]],
    new_objects: Sequence[Mapping[str, Any]],
    xr_kinds: set[tuple[str, str]],
    domain: str,
) -> list[XRPlan]:
    """One XRPlan per XR on either side that changes anything (composed resources or worst-case $/h)."""

    def xrs(objects: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str, str], Mapping[str, Any]]:
        return {
            (str(o["kind"]), str(o["metadata"].get("namespace", "")), str(o["metadata"]["name"])): o
            for o in objects
            if (o.get("apiVersion"), o.get("kind")) in xr_kinds
        }

    def compositions(objects: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return [o for o in objects if o.get("kind") == "Composition"]

    before, after = xrs(old_objects), xrs(new_objects)
    old_comps, new_comps = compositions(old_objects), compositions(new_objects)
    # Each XRD's schema is walked once, not once per XR.
    immutable_by_kind = {
        str(o["spec"]["names"]["kind"]): xrd_immutable_paths(o)
        for o in new_objects if o.get("kind") == "CompositeResourceDefinition"
    }
    out = []
    for key in sorted({*before, *after}):
        old_xr, new_xr = before.get(key), after.get(key)
        old_composed = _composed(old_xr, old_comps)
        # The new side starts from what the old side left live: what function-aiplane adopts stays, what it
        # replaces is rolled out to its end.
        changes = _classify(old_composed, _composed(new_xr, new_comps, live=old_composed))
        cost_before, cost_after = _worst_case(old_xr, domain), _worst_case(new_xr, domain)
        frozen = immutable_changed(old_xr, new_xr, immutable_by_kind.get(key[0], ()))
        if changes or frozen or cost_before != cost_after:
            out.append(XRPlan(key[0], key[1], key[2], cost_before, cost_after, changes, frozen))
    return out
