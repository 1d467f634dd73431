"""The platform stack: one environment's synthesized objects registered with pulumi-kubernetes, layer by
layer, with `depends_on` so every kind exists before its instances.

The objects come from `aiplane.synthesis` in process (the code behind `aiplane synth`), so this stack and
Flux (`manifests/`) deploy the very same bodies. Crossplane kinds are `CustomResource`s and core kinds
their typed classes; no `yaml.v2` group, whose children CrossGuard and unit tests could not see.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from aiplane.stacks.environment import Layer, StackEnvironment, load_stack_environment
from aiplane.synthesis.pipeline import Manifest

# Core kinds have typed classes: CrossGuard then sees `kubernetes:core/v1:Namespace` and the provider
# applies its own await logic. Every other kind (all Crossplane kinds) is an untyped CustomResource.
TYPED_KINDS: dict[tuple[str, str], Callable[..., pulumi.CustomResource]] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): k8s.rbac.v1.ClusterRole,
}
CUSTOM_RESOURCE_FIELDS = {"apiVersion", "kind", "metadata", "spec"}


class UnsupportedObject(ValueError):
    """A synthesized object this stack cannot register without changing its body."""


@dataclass
class PlatformStack:
    """What `deploy` registered: resources by logical name and by layer, and the environment's figures."""

    environment: StackEnvironment
    resources: dict[str, pulumi.CustomResource] = field(default_factory=dict)
    layers: dict[Layer, list[str]] = field(default_factory=dict)

    def xr_names(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for m in self.environment.in_layer(Layer.XRS):
            out.setdefault(m.obj["kind"], []).append(m.obj["metadata"]["name"])
        return {kind: sorted(names) for kind, names in sorted(out.items())}


def logical_name(obj: Mapping[str, Any]) -> str:
    """Stable Pulumi name: `<kind>-<name>`, or `<kind>-<namespace>-<name>` for namespaced objects."""
    meta = obj["metadata"]
    parts = [obj["kind"], *([meta["namespace"]] if meta.get("namespace") else []), meta["name"]]
    return re.sub(r"[^a-z0-9.-]", "-", "-".join(parts).lower())


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def register(obj: Mapping[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Register one manifest unchanged: typed class for core kinds, CustomResource otherwise."""
    api_version, kind = obj["apiVersion"], obj["kind"]
    name = logical_name(obj)
    typed = TYPED_KINDS.get((api_version, kind))
    if typed is not None:
        body = {_snake(k): v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        return typed(name, opts=opts, **body)
    extra = sorted(set(obj) - CUSTOM_RESOURCE_FIELDS)
    if extra:
        # CustomResource only carries metadata and spec; dropping a field would deploy a different object.
        raise UnsupportedObject(f"{kind}/{obj['metadata']['name']}: top-level field(s) {', '.join(extra)} "
                                f"need a typed class in TYPED_KINDS")
    return k8s.apiextensions.CustomResource(
        name, api_version=api_version, kind=kind, metadata=obj["metadata"], spec=obj.get("spec"), opts=opts)


def _kube_provider(env_name: str, kube_context: str | None) -> k8s.Provider | None:
    if kube_context:
        return k8s.Provider(f"kubernetes-{env_name}", context=kube_context)
    if pulumi.Config("kubernetes").get("context"):
        return None  # the default provider uses `kubernetes:context`
    raise ValueError("set `aiplane:kubeContext` (or `kubernetes:context`) in Pulumi.<stack>.yaml; the stack "
                     "refuses to deploy to whatever context the kubeconfig currently points at")


def _composite_kind(composition: Manifest) -> str:
    return str(composition.obj["spec"]["compositeTypeRef"]["kind"])


def deploy(env_name: str, *, kube_context: str | None = None, start: Path | None = None) -> PlatformStack:
    """Register the platform and environment `env_name`, in order: packages → provider config → XRDs →
    Compositions → Namespace and record → XRs (each XR after its kind's XRD and Compositions)."""
    loaded = load_stack_environment(env_name, start or Path(__file__).resolve().parent)
    provider = _kube_provider(env_name, kube_context)
    stack = PlatformStack(loaded)

    def add(manifest: Manifest, depends_on: Sequence[pulumi.Resource]) -> pulumi.CustomResource:
        name = logical_name(manifest.obj)
        if name in stack.resources:
            raise UnsupportedObject(f"two objects map to the Pulumi name {name}")
        resource = register(manifest.obj, pulumi.ResourceOptions(provider=provider, depends_on=list(depends_on)))
        stack.resources[name] = resource
        stack.layers.setdefault(loaded.layer_of(manifest), []).append(name)
        return resource

    packages = [add(m, []) for m in loaded.in_layer(Layer.PACKAGES)]
    xrds = {m.obj["spec"]["names"]["kind"]: add(m, packages) for m in loaded.in_layer(Layer.XRDS)}
    compositions: dict[str, list[pulumi.Resource]] = {}
    for m in loaded.in_layer(Layer.COMPOSITIONS):
        kind = _composite_kind(m)
        compositions.setdefault(kind, []).append(add(m, [xrds[kind]] if kind in xrds else list(xrds.values())))

    environment: list[pulumi.Resource] = []
    namespaces = [m for m in loaded.in_layer(Layer.ENVIRONMENT) if m.obj["kind"] == "Namespace"]
    for m in namespaces:
        environment.append(add(m, []))
    namespace_deps = list(environment)
    for m in loaded.in_layer(Layer.ENVIRONMENT):
        if m.obj["kind"] != "Namespace":
            # The ProviderConfig and observed Subnets are kinds the provider packages install.
            environment.append(add(m, [*namespace_deps, *packages]))
    for m in loaded.in_layer(Layer.XRS):
        kind = m.obj["kind"]
        if kind not in xrds:
            raise UnsupportedObject(f"{kind}/{m.obj['metadata']['name']}: no XRD defines kind {kind}")
        add(m, [xrds[kind], *compositions.get(kind, []), *namespace_deps])

    pulumi.export("environment", env_name)
    pulumi.export("namespace", loaded.env.namespace)
    pulumi.export("xrs", stack.xr_names())
    pulumi.export("worstCaseUsdPerHour", round(loaded.worst_case_usd_per_hour(), 2))
    pulumi.export("expectedUsdPerHour", round(loaded.expected_usd_per_hour(), 2))
    pulumi.export("budgetUsdPerHour", loaded.env.finops.budgetPerHour)
    return stack
