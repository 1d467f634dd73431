"""Flux `prune: true` must never delete an XRD, a Provider or a Namespace because it vanished from Git:
that would delete every XR of the API or environment, and their AWS resources with them."""

from __future__ import annotations

from shipped_manifests import docs as _objects

PROTECTED = {"CompositeResourceDefinition", "Provider", "Namespace"}


def test_the_flux_kustomizations_prune() -> None:
    flux = [o for o in _objects() if o["kind"] == "Kustomization" and o["apiVersion"].startswith("kustomize.toolkit")]
    assert flux and all(o["spec"]["prune"] is True for o in flux)


def test_xrds_providers_and_namespaces_opt_out_of_pruning() -> None:
    protected = [o for o in _objects() if o["kind"] in PROTECTED]
    assert {o["kind"] for o in protected} == PROTECTED
    for obj in protected:
        annotations = obj["metadata"].get("annotations") or {}
        assert annotations.get("kustomize.toolkit.fluxcd.io/prune") == "disabled", obj["metadata"]["name"]
