"""Environment items → composite resources (XRs): namespaced, labelled, with their cost annotated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiplane.catalog.instances import Catalog
from aiplane.crossplane.render import select_composition
from aiplane.project import MANAGED_BY, PRUNE_DISABLED, Settings
from aiplane.synthesis.environment import Environment, Item
from aiplane.synthesis.environment_record import environment_record
from aiplane.synthesis.provider_config import environment_provider_config
from aiplane.synthesis.subnets import observed_subnet
from aiplane.synthesis.waivers import WAIVERS_KEY, annotation_value


def build_xr(
    item: Item,
    env: Environment,
    settings: Settings,
    catalog: Catalog,
    compositions: Sequence[Mapping[str, Any]],
    chosen: dict[tuple[Any, ...], str] | None = None,
) -> dict[str, Any]:
    """One XR. Its Composition is pinned by name (`spec.crossplane.compositionRef`): Crossplane reads a
    compositionSelector only until it has chosen, so a selector would ignore a later change of, say,
    `capacity`, while a changed compositionRef switches the XR to the other Composition. `chosen`: the
    Compositions already chosen among these `compositions`, by type and selector (filled here)."""
    labels = {
        **MANAGED_BY,
        settings.label("environment"): env.settings.name,
        settings.label("cost-center"): item.spec.finops.costCenter,
        settings.label("tier"): item.spec.finops.tier,
    }
    metadata: dict[str, Any] = {"name": item.name, "namespace": env.settings.namespace, "labels": labels}
    cost = env.cost_of(item, catalog)
    if cost is not None:
        metadata["annotations"] = {
            settings.label("worst-case-usd-per-hour"): f"{cost.worst_case:.2f}",
            settings.label("expected-usd-per-hour"): f"{cost.expected:.2f}",
        }
    if item.waivers:  # an annotation, not spec: see aiplane.synthesis.waivers
        metadata.setdefault("annotations", {})[settings.label(WAIVERS_KEY)] = annotation_value(list(item.waivers))
    spec: dict[str, Any] = item.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    labels_wanted = item.api.composition_labels(item.spec) if item.api.composition_labels else {}
    xr = {
        "apiVersion": f"{settings.group}/{item.api.version}",
        "kind": item.api.kind,
        "metadata": metadata,
        "spec": spec,
    }
    match_labels = {settings.label(k): v for k, v in labels_wanted.items()}
    # The choice depends on the XR's type and selector only: made once per distinct pair (thousands of XRs
    # share a handful), a failure still reported for the first XR that meets it.
    key = (xr["apiVersion"], xr["kind"], *sorted(match_labels.items()))
    if chosen is None:
        chosen = {}
    name = chosen.get(key)
    if name is None:
        selector = {"compositionSelector": {"matchLabels": match_labels}}
        name = select_composition({**xr, "spec": {"crossplane": selector}}, compositions)["metadata"]["name"]
        chosen[key] = name
    spec["crossplane"] = {"compositionRef": {"name": name}}
    return xr


def environment_objects(
    env: Environment, settings: Settings, catalog: Catalog, compositions: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The environment's Namespace, its policy record, its ProviderConfig, the observed subnets, then every XR."""
    ns = env.settings.namespace
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": ns,
                "annotations": dict(PRUNE_DISABLED),
                "labels": {
                    **MANAGED_BY,
                    settings.label("environment"): env.settings.name,
                    settings.label("cost-center"): env.settings.finops.costCenter,
                },
            },
        },
        environment_record(env, settings),
    ]
    provider_config = env.settings.providerConfigRef.model_dump()
    own_config = environment_provider_config(ns, provider_config)
    if own_config is not None:
        objects.append(own_config)
    for subnet_id, labels in env.subnet_labels():
        objects.append(observed_subnet(subnet_id, labels, ns, env.settings.region, provider_config))
    chosen: dict[tuple[Any, ...], str] = {}
    for item in sorted(env.items, key=lambda i: (i.api.kind, i.name)):
        objects.append(build_xr(item, env, settings, catalog, compositions, chosen))
    return objects
