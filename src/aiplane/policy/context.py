"""What a rule reads: the object (a `Manifest`) and what it may consult besides it: the price catalog, the
platform APIs, the CRD schemas, its parameters, and (stack checks only) the other objects and the
environment records among them. The rule's own shape (aiplane.policy.model) builds on this module, never
the reverse."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from aiplane.authoring.api import CommonSpec, HourlyCost, PlatformAPI, priced_hourly_cost
from aiplane.catalog.instances import Catalog
from aiplane.project import Settings
from aiplane.synthesis.environment_record import EnvironmentRecord, is_environment_record
from aiplane.validation import SchemaRegistry

# What a rule reads: a plain Kubernetes object (a dict, or a read-only mapping under CrossGuard).
# Non-Kubernetes resources (pulumi-aws) come as
# `{"pulumiType": token, "kind": token, "metadata": {"name": n}, "properties": props}`.
Manifest = Mapping[str, Any]


def plain(value: Any, integral_floats: bool = False) -> Any:
    """Deep copy into dicts and lists, so rules read plain data. Read-only proxies (CrossGuard hands
    rules `Mapping`/`Sequence` proxies, not dicts and lists) are copied like the real thing.
    `integral_floats`: Pulumi sends every number as float64, so whole numbers become ints again, as
    they were in the YAML the gate reads (messages then say `minSize 2`, not `2.0`)."""
    if isinstance(value, (dict, Mapping)):  # dict first: the common case is cheap
        return {str(k): plain(value[k], integral_floats) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(value[i], integral_floats) for i in range(len(value))]
    if integral_floats and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True)
class RuleContext:
    settings: Settings
    apis: Mapping[str, PlatformAPI]
    catalog: Catalog
    registry: SchemaRegistry
    params: Mapping[str, Any] = field(default_factory=dict)
    # Every object under check; empty for resource checks, which must judge one object alone.
    objects: Sequence[Manifest] = ()
    # Parsed XR specs by object identity (the object is kept so a reused id cannot alias), shared by the
    # copies `dataclasses.replace` makes per rule; their plain dumps likewise, made only when a rule asks.
    spec_cache: dict[int, tuple[Manifest, CommonSpec]] = field(
        default_factory=dict, repr=False, compare=False
    )
    values_cache: dict[int, tuple[Manifest, dict[str, Any]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # The XR objects a synthesis built, by identity, with the specs its loader validated
    # (Synthesis.validated_specs): such an XR is not validated again. Anything else — a copy, a manifest
    # read from disk, an object from the CrossGuard engine — is.
    known_specs: Mapping[int, tuple[Manifest, CommonSpec]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # The hourly costs that synthesis priced for its XRs (Synthesis.known_costs), with the spot discount of each,
    # and those priced during this run: by object identity, then discount.
    known_costs: Mapping[int, tuple[Manifest, tuple[float, HourlyCost | None]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    cost_cache: dict[tuple[int, float], tuple[Manifest, HourlyCost | None]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # Per object list (by identity, the list kept): its XRs and environment records, which every stack
    # rule asks for.
    scan_cache: dict[int, tuple[Sequence[Manifest], list[Manifest], dict[str, EnvironmentRecord]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def label(self, key: str) -> str:
        return self.settings.label(key)

    @cached_property
    def _xr_types(self) -> dict[tuple[str, str], PlatformAPI]:
        return {(f"{self.settings.group}/{api.version}", kind): api for kind, api in self.apis.items()}

    def api_of(self, obj: Manifest) -> PlatformAPI | None:
        """The platform API whose XR this object is, if any."""
        return self._xr_types.get((obj.get("apiVersion"), obj.get("kind")))  # type: ignore[arg-type]

    def spec_of(self, obj: Manifest) -> CommonSpec:
        """An XR's spec, parsed by its API's model once per object and run (a spec that does not parse
        makes the rule raise, which the engine reports as a violation: fail closed). For an XR a synthesis
        built, the spec its loader validated (the XR's spec is that spec's dump: validating it again gives
        the same model, tests/policy/test_spec_reuse.py)."""
        key = id(obj)
        for cache in (self.known_specs, self.spec_cache):
            cached = cache.get(key)
            if cached is not None and cached[0] is obj:
                return cached[1]
        api = self.api_of(obj)
        if api is None:
            raise ValueError(f"{obj.get('kind')} is not an aiplane platform API")
        raw = {k: v for k, v in (obj.get("spec") or {}).items() if k != "crossplane"}
        spec = api.spec.model_validate(raw)
        self.spec_cache[key] = (obj, spec)
        return spec

    def spec_values(self, obj: Manifest) -> dict[str, Any]:
        """An XR's spec after parsing and defaulting by its API's model, as plain data (do not modify).
        The dump is made on first use: the built-in rules read the model (spec_of), which costs nothing
        more once parsed."""
        cached = self.values_cache.get(id(obj))
        if cached is not None and cached[0] is obj:
            return cached[1]
        values = self.spec_of(obj).model_dump(mode="json", by_alias=True)
        self.values_cache[id(obj)] = (obj, values)
        return values

    def hourly_cost(self, obj: Manifest, spot_discount: float) -> HourlyCost | None:
        """An XR's cost at its region's prices with spot at `spot_discount` off (None for an object that is
        no XR, or an API that costs nothing by itself); priced once per object and discount, and not at all
        where synthesis priced it at that discount."""
        key = id(obj)
        known = self.known_costs.get(key)
        if known is not None and known[0] is obj and known[1][0] == spot_discount:
            return known[1][1]
        cached = self.cost_cache.get((key, spot_discount))
        if cached is not None and cached[0] is obj:
            return cached[1]
        api = self.api_of(obj)
        cost = (
            None if api is None else priced_hourly_cost(api, self.spec_of(obj), self.catalog, spot_discount)
        )
        self.cost_cache[(key, spot_discount)] = (obj, cost)
        return cost

    def worst_case_cost(self, obj: Manifest, spot_discount: float) -> HourlyCost | None:
        """hourly_cost for a reader of the worst case and the uncertain prices only, which no discount
        changes: a cost already priced at any discount serves, else the object is priced at `spot_discount`."""
        known = self.known_costs.get(id(obj))
        if known is not None and known[0] is obj:
            return known[1][1]
        return self.hourly_cost(obj, spot_discount)

    def environment_name(self, obj: Manifest) -> str:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return str(labels.get(self.label("environment"), ""))

    def _scan(self) -> tuple[list[Manifest], dict[str, EnvironmentRecord]]:
        cached = self.scan_cache.get(id(self.objects))
        if cached is not None and cached[0] is self.objects:
            return cached[1], cached[2]
        xrs: list[Manifest] = []
        records: dict[str, EnvironmentRecord] = {}
        for obj in self.objects:
            if self.api_of(obj) is not None:
                xrs.append(obj)
            elif is_environment_record(obj):
                record = EnvironmentRecord.from_configmap(obj)
                records[record.namespace] = record
        self.scan_cache[id(self.objects)] = (self.objects, xrs, records)
        return xrs, records

    def environment_records(self) -> dict[str, EnvironmentRecord]:
        """Environment records among the objects, by namespace."""
        return self._scan()[1]

    def xrs(self, kind: str | None = None) -> list[Manifest]:
        return [o for o in self._scan()[0] if kind is None or o.get("kind") == kind]

    def taggable(self, api_version: str, kind: str) -> bool:
        """Whether a managed resource kind has AWS tags (spec.forProvider.tags in its CRD)."""
        schema = self.registry.lookup(api_version, kind)
        if schema is None:
            return False
        props = schema.schema.get("properties", {}).get("spec", {}).get("properties", {})
        return "tags" in props.get("forProvider", {}).get("properties", {})
