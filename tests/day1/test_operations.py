"""Day-1 operations: only the managed resources the platform uses are activated, and node AMI patching is a
Git change."""

from __future__ import annotations

import copy

from shipped_manifests import MANIFESTS, REPO
from shipped_manifests import docs as _docs

from aiplane.crossplane.render import render, select_composition
from aiplane.function.logic import COMPOSES


def test_the_activation_policy_names_exactly_the_managed_resources_the_platform_uses() -> None:
    [policy] = [d for d in _docs(MANIFESTS / "platform") if d["kind"] == "ManagedResourceActivationPolicy"]
    used = set()
    for comp in (d for d in _docs(MANIFESTS / "platform") if d["kind"] == "Composition"):
        for step in comp["spec"]["pipeline"]:
            for res in (step.get("input") or {}).get("resources") or []:
                group = res["base"]["apiVersion"].split("/")[0]
                if group.endswith(".aws.m.upbound.io"):
                    used.add((group, res["base"]["kind"]))
        # ... and what function-aiplane composes itself (ModelEndpoint's scheduled actions).
        if any(step.get("functionRef", {}).get("name") == "function-aiplane" for step in comp["spec"]["pipeline"]):
            kind = comp["spec"]["compositeTypeRef"]["kind"]
            used |= {(api_version.split("/")[0], k) for api_version, k in COMPOSES.get(kind, ())}
    used |= {(d["apiVersion"].split("/")[0], d["kind"]) for d in _docs(MANIFESTS / "environments")
             if d["apiVersion"].split("/")[0].endswith(".aws.m.upbound.io")}
    crds = {(c["spec"]["group"], c["spec"]["names"]["kind"]): f"{c['spec']['names']['plural']}.{c['spec']['group']}"
            for c in _docs(REPO / "src/aiplane/data/crds")
            if c.get("kind") == "CustomResourceDefinition"}
    assert sorted(policy["spec"]["activate"]) == sorted(crds[k] for k in used)
    assert "*" not in "".join(policy["spec"]["activate"])


def test_node_kubernetes_and_ami_release_versions_come_from_git() -> None:
    objs = _docs(MANIFESTS / "environments" / "prod")
    comps = [d for d in _docs(MANIFESTS / "platform") if d["kind"] == "Composition"]
    pool = copy.deepcopy(next(o for o in objs if o["kind"] == "GPUNodePool"))
    pool["spec"]["kubernetesVersion"] = "1.32"
    pool["spec"]["releaseVersion"] = "1.32.3-20250519"
    groups = [r for r in render(pool, select_composition(pool, comps)) if r.obj["kind"] == "NodeGroup"]
    assert groups
    for group in groups:
        assert group.for_provider["version"] == "1.32"
        assert group.for_provider["releaseVersion"] == "1.32.3-20250519"
