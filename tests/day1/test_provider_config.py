"""Per-environment, namespaced AWS ProviderConfigs instead of one ClusterProviderConfig that any namespace
could use. provider-upjet-aws v2 resolves `providerConfigRef {kind: ProviderConfig}` in the managed resource's
own namespace, so every composed resource, and every observed Subnet, must find its ProviderConfig there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "synth"))
from project_copy import copy_project, run_aiplane
from shipped_manifests import MANIFESTS, docs

from aiplane.crossplane.render import select_composition, settle


def _is_aws_mr(obj: dict[str, Any]) -> bool:
    return str(obj.get("apiVersion", "")).split("/")[0].endswith(".aws.m.upbound.io")


def test_no_cluster_wide_provider_config_is_shipped() -> None:
    kinds = {(o["apiVersion"], o["kind"]) for o in docs()}
    assert ("aws.m.upbound.io/v1beta1", "ClusterProviderConfig") not in kinds
    assert not (MANIFESTS / "platform" / "provider-config").exists()


def test_each_environment_namespace_has_its_own_pod_identity_provider_config() -> None:
    objs = docs(MANIFESTS / "environments")
    namespaces = {o["metadata"]["name"] for o in objs if o["kind"] == "Namespace"}
    configs = [o for o in objs if o["kind"] == "ProviderConfig"]
    assert {c["metadata"]["namespace"] for c in configs} == namespaces
    assert len(configs) == len(namespaces)
    for config in configs:
        assert config["apiVersion"] == "aws.m.upbound.io/v1beta1"
        assert config["spec"] == {"credentials": {"source": "PodIdentity"}}


def test_every_managed_resource_finds_its_provider_config_in_its_own_namespace() -> None:
    objs = docs(MANIFESTS / "environments")
    comps = [o for o in docs(MANIFESTS / "platform") if o["kind"] == "Composition"]
    configs = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objs if o["kind"] == "ProviderConfig"}
    checked = 0
    for obj in objs:
        namespace = obj["metadata"].get("namespace")
        if "crossplane" in obj.get("spec", {}):
            composed = [r.obj for r in settle(obj, select_composition(obj, comps)).resources]
        elif _is_aws_mr(obj):
            composed = [obj]  # the observe-only Subnets
        else:
            continue
        for mr in filter(_is_aws_mr, composed):
            ref = mr["spec"]["providerConfigRef"]
            assert ref["kind"] == "ProviderConfig", (obj["metadata"]["name"], mr["kind"])
            assert (namespace, ref["name"]) in configs, (namespace, ref)
            checked += 1
    assert checked > 50


def test_the_environment_kustomization_applies_the_provider_config_with_its_xrs() -> None:
    for env_dir in sorted((MANIFESTS / "environments").iterdir()):
        listed = yaml.safe_load((env_dir / "kustomization.yaml").read_text())["resources"]
        assert "providerconfig-aiplane.yaml" in listed
        built = subprocess.run(["kubectl", "kustomize", str(env_dir)], capture_output=True, text=True, check=True)
        assert "kind: ProviderConfig" in built.stdout


def test_an_environment_naming_a_cluster_provider_config_gets_none_written(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    env = project / "environments" / "dev.yaml"
    text = env.read_text()
    assert "providerConfigRef" not in text
    env.write_text(text.replace("finops:\n", "providerConfigRef: {kind: ClusterProviderConfig, name: shared}\nfinops:\n", 1))
    done = run_aiplane(project, "synth")
    assert done.returncode == 0, done.stderr
    objs = docs(project / "manifests" / "environments" / "dev")
    assert [o for o in objs if o["kind"] == "ProviderConfig"] == []
    pool = next(o for o in objs if o["kind"] == "GPUNodePool")
    assert pool["spec"]["providerConfigRef"] == {"kind": "ClusterProviderConfig", "name": "shared"}
