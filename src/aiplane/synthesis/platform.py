"""The platform layer every environment shares: Crossplane packages (with function-aiplane and each
provider's runtime config), the RBAC that lets Crossplane compose Kubernetes kinds, and the XRDs and Compositions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from aiplane import DATA, __version__
from aiplane.authoring.composing import CompositionContext
from aiplane.authoring.xrd import build_xrd
from aiplane.crossplane.composed import composed_resources
from aiplane.function.logic import COMPOSES
from aiplane.function.model import FUNCTION_NAME as FUNCTION_AIPLANE
from aiplane.project import MANAGED_BY, PRUNE_DISABLED, Settings
from aiplane.synthesis.discovery import Project
from aiplane.synthesis.subnets import SUBNET_API_VERSION, SUBNET_KIND
from aiplane.validation.registry import shipped_crd_name

AWS_MR_SUFFIX = ".aws.m.upbound.io"


@dataclass(frozen=True)
class Platform:
    """Platform objects by layer, in the order Flux applies the layers."""

    packages: list[dict[str, Any]]
    apis: list[dict[str, Any]]


@cache
def package_versions() -> dict[str, Any]:
    text = (DATA / "packages.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def composed_bases(composition: dict[str, Any]) -> list[dict[str, Any]]:
    """The base manifests a Pipeline Composition's P&T steps compose, and (kind only) the managed resources
    function-aiplane adds when the pipeline runs it (aiplane.function.logic.COMPOSES)."""
    bases = [dict(resource.base) for resource in composed_resources(composition)]
    spec = composition.get("spec") or {}
    steps = spec.get("pipeline") or []
    if any((step.get("functionRef") or {}).get("name") == FUNCTION_AIPLANE for step in steps):
        kind = (spec.get("compositeTypeRef") or {}).get("kind")
        for api_version, composed_kind in COMPOSES.get(kind, ()) if isinstance(kind, str) else ():
            bases.append({"apiVersion": api_version, "kind": composed_kind, "spec": {"forProvider": {}}})
    return bases


def aws_managed_kinds(compositions: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(API group, kind) of every AWS managed resource the platform uses: what the Compositions compose, and
    the observe-only Subnets environments write for the NodeGroups' subnetIdSelector (synthesis.subnets)."""
    kinds = {(str(b["apiVersion"]).split("/")[0], str(b["kind"])) for c in compositions for b in composed_bases(c)}
    kinds.add((SUBNET_API_VERSION.split("/")[0], SUBNET_KIND))
    return {(group, kind) for group, kind in kinds if group.endswith(AWS_MR_SUFFIX)}


def _package(kind: str, name: str, ref: str) -> dict[str, Any]:
    return {
        "apiVersion": "pkg.crossplane.io/v1",
        "kind": kind,
        "metadata": {"name": name, "labels": dict(MANAGED_BY)},
        "spec": {"package": ref},
    }


def provider_service_account(provider: str) -> str:
    """The fixed name of a provider's pod service account: the provider's own name. Without a
    DeploymentRuntimeConfig Crossplane names it after the revision (`<name>-<12 hex>`, new on every upgrade),
    and the IAM side (stacks/aws-foundation's Pod Identity associations) could never point at it."""
    return provider


def runtime_config(provider: str) -> dict[str, Any]:
    """One DeploymentRuntimeConfig per provider (pkg.crossplane.io/v1beta1), pinning its service account's
    name; one per provider so that no two revisions own the same ServiceAccount."""
    return {
        "apiVersion": "pkg.crossplane.io/v1beta1",
        "kind": "DeploymentRuntimeConfig",
        "metadata": {"name": provider, "labels": dict(MANAGED_BY)},
        "spec": {"serviceAccountTemplate": {"metadata": {"name": provider_service_account(provider)}}},
    }


def referenced_functions(compositions: list[dict[str, Any]]) -> set[str]:
    """Names of the Function objects the Compositions' pipelines call."""
    return {
        str((step.get("functionRef") or {}).get("name"))
        for c in compositions
        for step in (c.get("spec") or {}).get("pipeline") or []
    }


def packages(compositions: list[dict[str, Any]], settings: Settings) -> list[dict[str, Any]]:
    """Functions the pipelines call, the provider family members whose MRs they compose, and each
    provider's DeploymentRuntimeConfig (referenced by its `runtimeConfigRef`). function-aiplane is pinned
    to this aiplane's version: its logic and the Compositions name the same composed resources."""
    versions = package_versions()
    registry = versions["registry"]
    out = [
        _package("Function", f"crossplane-contrib-{fn}", f"{registry}/{fn}:{tag}")
        for fn, tag in sorted(versions["functions"].items())
    ]
    if FUNCTION_AIPLANE in referenced_functions(compositions):
        out.append(_package("Function", FUNCTION_AIPLANE, f"{settings.function_package}:v{__version__}"))
    services = sorted({group.removesuffix(AWS_MR_SUFFIX) for group, _ in aws_managed_kinds(compositions)})
    for svc in services:
        name = f"crossplane-contrib-provider-aws-{svc}"
        provider = _package("Provider", name, f"{registry}/provider-aws-{svc}:{versions['provider-aws-version']}")
        provider["metadata"]["annotations"] = dict(PRUNE_DISABLED)
        provider["spec"]["runtimeConfigRef"] = {
            "apiVersion": "pkg.crossplane.io/v1beta1",
            "kind": "DeploymentRuntimeConfig",
            "name": name,
        }
        out += [runtime_config(name), provider]
    return out


def activation_policy(compositions: list[dict[str, Any]]) -> dict[str, Any]:
    """A ManagedResourceActivationPolicy (Crossplane v2) naming exactly the managed resource kinds the
    platform uses: the Compositions' AWS kinds and the environments' observe-only Subnets. Crossplane's Helm
    chart also installs a default policy activating `*`; set `provider.defaultActivations: []` for this one
    to be the only one, so the providers install CRDs and controllers for these kinds alone."""
    names = sorted(
        name for group, kind in aws_managed_kinds(compositions) if (name := shipped_crd_name(group, kind)) is not None
    )
    return {
        "apiVersion": "apiextensions.crossplane.io/v1alpha1",
        "kind": "ManagedResourceActivationPolicy",
        "metadata": {"name": "aiplane", "labels": dict(MANAGED_BY)},
        "spec": {"activate": names},
    }


def compose_rbac(compositions: list[dict[str, Any]]) -> dict[str, Any]:
    """ClusterRole aggregated into Crossplane's, for the non-Crossplane kinds compositions compose
    (the ethics monitor's ConfigMap and CronJob; reference crossplane.md §4)."""
    kinds: dict[str, set[str]] = {}
    for comp in compositions:
        for base in composed_bases(comp):
            group_version = base["apiVersion"]
            group = group_version.split("/")[0] if "/" in group_version else ""
            if group.endswith(".crossplane.io") or group.endswith(".upbound.io"):
                continue
            kinds.setdefault(group, set()).add(base["kind"].lower() + "s")
    rules = [
        {
            "apiGroups": [group],
            "resources": sorted(plurals),
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
        }
        for group, plurals in sorted(kinds.items())
    ]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": "aiplane:crossplane-compose-kubernetes",
            "labels": {**MANAGED_BY, "rbac.crossplane.io/aggregate-to-crossplane": "true"},
        },
        "rules": rules,
    }



def build_platform(project: Project, ctx: CompositionContext) -> Platform:
    compositions: list[dict[str, Any]] = []
    defaults: dict[str, str] = {}
    for module in project.compositions:
        built = module.compositions(ctx)
        compositions.extend(built)
        plural = project.apis[module.KIND].plural
        defaults.setdefault(module.KIND, f"{plural}-{module.DEFAULT_VARIANT}")
    xrds = [build_xrd(api, ctx.settings, defaults.get(kind)) for kind, api in sorted(project.apis.items())]
    compositions.sort(key=lambda c: str(c["metadata"]["name"]))
    return Platform(
        packages=[*packages(compositions, ctx.settings), activation_policy(compositions), compose_rbac(compositions)],
        apis=[*xrds, *compositions],
    )
