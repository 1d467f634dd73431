"""Node groups must get subnets. A NodeGroup's subnetIdSelector is resolved by the provider among Subnet
objects in its own namespace (provider-upjet-aws v2.6.0 zz_generated.resolvers.go), so an environment
declares its subnets (written observe-only) or a pool names literal subnetIds; a selector that would find
nothing is refused before Git, at the environment line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "synth"))
from project_copy import copy_project, run_aiplane, tree_digest

from aiplane.authoring.api import labels_match
from aiplane.crossplane.render import render, select_composition
from aiplane.project import load_settings

MANIFESTS = load_settings(Path(__file__).resolve().parents[2]).manifests


def _docs(folder: Path) -> list[dict[str, Any]]:
    return [
        d
        for p in sorted(folder.rglob("*.yaml"))
        if p.name != "kustomization.yaml"
        for d in yaml.safe_load_all(p.read_text())
        if isinstance(d, dict)
    ]


def test_every_shipped_node_group_resolves_its_subnets_in_its_namespace() -> None:
    compositions = [d for d in _docs(MANIFESTS / "platform") if d["kind"] == "Composition"]
    pools = 0
    for env_dir in sorted((MANIFESTS / "environments").iterdir()):
        objs = _docs(env_dir)
        subnets = [o for o in objs if o["kind"] == "Subnet"]
        for subnet in subnets:
            assert subnet["apiVersion"] == "ec2.aws.m.upbound.io/v1beta1"
            assert subnet["spec"]["managementPolicies"] == ["Observe"]  # read, never created or changed
            assert subnet["metadata"]["annotations"]["crossplane.io/external-name"] == subnet["metadata"]["name"]
        for xr in (o for o in objs if o["kind"] == "GPUNodePool"):
            for res in render(xr, select_composition(xr, compositions)):
                if res.obj["kind"] != "NodeGroup":
                    continue
                pools += 1
                provider = res.for_provider
                if "subnetIds" in provider:
                    continue
                selector = provider["subnetIdSelector"]["matchLabels"]
                found = [s for s in subnets if labels_match(selector, s["metadata"]["labels"])
                         and s["metadata"]["namespace"] == xr["metadata"]["namespace"]]
                assert found, f"{env_dir.name}/{xr['metadata']['name']}: no Subnet matches {selector}"
    assert pools >= 5


def test_the_ec2_provider_that_observes_subnets_is_installed() -> None:
    providers = {d["metadata"]["name"] for d in _docs(MANIFESTS / "platform") if d["kind"] == "Provider"}
    assert "crossplane-contrib-provider-aws-ec2" in providers


def test_a_pool_whose_selector_finds_no_subnet_is_refused_at_its_line(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    assert run_aiplane(project, "synth").returncode == 0
    before = tree_digest(project / "manifests")
    env_file = project / "environments" / "dev.yaml"
    text = env_file.read_text()
    env_file.write_text(text.replace("    capacity: spot\n", "    capacity: spot\n    subnetSelector: {tier: public}\n", 1))
    done = run_aiplane(project, "synth")
    assert done.returncode == 2
    line = next(i for i, t in enumerate(env_file.read_text().splitlines(), 1) if "subnetSelector: {tier: public}" in t)
    assert f"environments/dev.yaml:{line}:" in done.stderr
    assert "no subnet of this environment matches {'tier': 'public'}" in done.stderr
    assert tree_digest(project / "manifests") == before


def test_a_pool_with_literal_subnet_ids_needs_no_selector(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    env_file = project / "environments" / "dev.yaml"
    text = env_file.read_text()
    ids = "    subnetIds: [subnet-0a1b2c3d, subnet-0123456789abcdef0]\n"
    env_file.write_text(text.replace("    capacity: spot\n", "    capacity: spot\n" + ids, 1))
    done = run_aiplane(project, "synth")
    assert done.returncode == 0, done.stderr
    xr = yaml.safe_load((project / "manifests/environments/dev/gpunodepool-experiments.yaml").read_text())
    assert xr["spec"]["subnetIds"] == ["subnet-0a1b2c3d", "subnet-0123456789abcdef0"]
    assert "subnetSelector" not in xr["spec"]
