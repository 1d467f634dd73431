"""Flux Kustomizations that apply one environment in order: Crossplane packages → provider config →
platform APIs (XRDs, Compositions) → the environment's XRs.

XRDs are not CRDs: Crossplane creates the XR CRDs asynchronously, so XRs must wait in a later
Kustomization until the XRDs are Established (reference cdk8s-and-flux.md §7.3). Crossplane objects
have no observedGeneration, so health is judged with CEL on their conditions (healthCheckExprs), not kstatus.
"""

from __future__ import annotations

from typing import Any

from aiplane.authoring.api import PlatformAPI
from aiplane.project import MANAGED_BY, Settings

FLUX_API_VERSION = "kustomize.toolkit.fluxcd.io/v1"
FLUX_NAMESPACE = "flux-system"
SOURCE_REF = {"kind": "GitRepository", "name": "flux-system"}


def _condition_true(condition: str) -> str:
    # exists(), not filter().all(): the latter is true on an empty list, before the condition is reported.
    return f"status.conditions.exists(e, e.type == '{condition}' && e.status == 'True')"


def _condition(condition: str, status: str, reason: str) -> str:
    return f"status.conditions.exists(e, e.type == '{condition}' && e.status == '{status}' && e.reason == '{reason}')"


# `failed` expressions, so Flux stops waiting out the timeout once an object cannot get healthy: every
# Crossplane reconciler reports an error as Synced=False/ReconcileError (crossplane-runtime apis/common
# condition.go), and a package whose runtime is unhealthy as Healthy=False/UnhealthyPackageRevision
# (crossplane apis/v2 pkg/v1/conditions.go).
RECONCILE_FAILED = _condition("Synced", "False", "ReconcileError")
PACKAGE_FAILED = f"{_condition('Healthy', 'False', 'UnhealthyPackageRevision')} || {RECONCILE_FAILED}"


def _kustomization(
    name: str,
    path: str,
    depends_on: list[str],
    *,
    interval: str,
    timeout: str,
    health: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "interval": interval,
        "retryInterval": "1m",
        "timeout": timeout,
        "sourceRef": dict(SOURCE_REF),
        "path": path,
        "prune": True,
        "wait": True,
    }
    if depends_on:
        spec["dependsOn"] = [{"name": d} for d in depends_on]
    if health:
        spec["healthCheckExprs"] = health
    return {
        "apiVersion": FLUX_API_VERSION,
        "kind": "Kustomization",
        "metadata": {
            "name": name,
            "namespace": FLUX_NAMESPACE,
            "labels": dict(MANAGED_BY),
        },
        "spec": spec,
    }


def cluster_kustomizations(
    env_name: str, manifests_path: str, settings: Settings, apis: list[PlatformAPI]
) -> list[dict[str, Any]]:
    """The three chained Kustomizations of one cluster (packages → platform APIs → the environment, whose
    namespace holds its own ProviderConfig); `manifests_path` is relative to the repo root."""
    root = f"./{manifests_path}"
    healthy = _condition_true("Healthy")
    ready = _condition_true("Ready")
    packages = _kustomization(
        "aiplane-packages",
        f"{root}/platform/packages",
        [],
        interval="10m",
        timeout="10m",
        health=[
            {"apiVersion": "pkg.crossplane.io/v1", "kind": "Provider", "current": healthy, "failed": PACKAGE_FAILED},
            {"apiVersion": "pkg.crossplane.io/v1", "kind": "Function", "current": healthy, "failed": PACKAGE_FAILED},
        ],
    )
    platform_apis = _kustomization(
        "aiplane-platform-apis",
        f"{root}/platform/apis",
        ["aiplane-packages"],
        interval="10m",
        timeout="5m",
        health=[
            {
                "apiVersion": "apiextensions.crossplane.io/v2",
                "kind": "CompositeResourceDefinition",
                "current": _condition_true("Established"),
                "failed": RECONCILE_FAILED,
            }
        ],
    )
    environment = _kustomization(
        f"aiplane-{env_name}",
        f"{root}/environments/{env_name}",
        ["aiplane-platform-apis"],
        # GPU node groups and SageMaker endpoints take many minutes to become ready.
        interval="10m",
        timeout="45m",
        health=[
            {"apiVersion": f"{settings.group}/{api.version}", "kind": api.kind, "current": ready, "failed": RECONCILE_FAILED}
            for api in sorted(apis, key=lambda a: a.kind)
        ],
    )
    return [packages, platform_apis, environment]
