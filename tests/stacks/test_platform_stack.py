"""stacks/platform under Pulumi's mock runtime: what it registers, in which order, and that it is exactly
what Flux applies from manifests/."""

from __future__ import annotations

import runpy
from typing import Any

import pytest
import yaml
from harness import Registration, Run, kubernetes_objects, run_program
from platform_stack import UnsupportedObject, deploy, logical_name, register
from shipped import ENVIRONMENTS, ROOT, SETTINGS, SPOT_MISUSE

from aiplane.policy import default_context, load_policy_config, run_rules
from aiplane.project import load_settings
from aiplane.stacks.environment import stack_tags

STACK_DIR = ROOT / "stacks" / "platform"
XR_GROUP = SETTINGS.group
CROSSPLANE_PACKAGE_TYPES = ("kubernetes:pkg.crossplane.io/v1:Provider", "kubernetes:pkg.crossplane.io/v1:Function",
                            "kubernetes:pkg.crossplane.io/v1beta1:DeploymentRuntimeConfig",
                            "kubernetes:apiextensions.crossplane.io/v1alpha1:ManagedResourceActivationPolicy")


def _run(env: str, **kwargs: Any) -> Run:
    return run_program(lambda: deploy(env, kube_context=f"ctx-{env}", **kwargs),
                       project="aiplane-platform", stack=env)


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env_run(request: pytest.FixtureRequest) -> tuple[str, Run]:
    return request.param, _run(request.param)


def _environment_file(env: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SETTINGS.environments / f"{env}.yaml").read_text())
    return data


def _key(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = obj["metadata"]
    return obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"]


def test_every_object_is_a_visible_kubernetes_resource_not_a_yaml_group(env_run: tuple[str, Run]) -> None:
    _env, run = env_run
    types = {r.type for r in run.registrations}
    assert not [t for t in types if t.startswith("kubernetes:yaml")], "yaml groups hide their children"
    assert "kubernetes:core/v1:Namespace" in types
    assert set(CROSSPLANE_PACKAGE_TYPES) <= types
    assert "kubernetes:apiextensions.crossplane.io/v2:CompositeResourceDefinition" in types
    assert "kubernetes:apiextensions.crossplane.io/v1:Composition" in types
    xr_kinds = {r.type.rsplit(":", 1)[1] for r in run.registrations
                if r.type.startswith(f"kubernetes:{XR_GROUP}/")}
    assert xr_kinds == {"GPUNodePool", "AcceleratorQuota", "ModelBucket", "ModelEndpoint"}


def test_objects_go_through_the_kube_context_of_the_stack(env_run: tuple[str, Run]) -> None:
    env, run = env_run
    [provider] = run.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == f"ctx-{env}"
    for r in run.registrations:
        if r.type.startswith("kubernetes:"):
            assert f"::{provider.name}::" in r.provider, f"{r.name} bypasses the stack's kube context"


def _layer(reg: Registration) -> int:
    kind = reg.type.rsplit(":", 1)[1]
    if reg.type in CROSSPLANE_PACKAGE_TYPES or kind == "ClusterRole":
        return 0
    if kind == "CompositeResourceDefinition":
        return 2
    if kind == "Composition":
        return 3
    if reg.type.startswith(f"kubernetes:{XR_GROUP}/"):
        return 5
    return 4  # Namespace, ConfigMap, ProviderConfig and Subnets of the environment


def test_depends_on_orders_packages_xrds_compositions_environment_then_xrs(env_run: tuple[str, Run]) -> None:
    env, run = env_run
    k8s = [r for r in run.registrations if r.type.startswith("kubernetes:")]
    packages = {r.name for r in k8s if _layer(r) == 0}
    xrds = {r.inputs["spec"]["names"]["kind"]: r.name for r in k8s if _layer(r) == 2}
    for reg in k8s:
        deps = run.depends_on(reg)
        # Never a dependency on the same or a later layer: the graph follows the Flux Kustomization chain.
        assert all(_layer(d) < _layer(reg) or (_layer(reg) == 4 and d.type.endswith(":Namespace"))
                   for d in deps), (reg.name, [d.name for d in deps])
        names = {d.name for d in deps}
        layer = _layer(reg)
        kind = reg.type.rsplit(":", 1)[1]
        if layer == 2:
            assert packages <= names, "XRDs wait for every package"
        elif layer == 4 and kind in ("ProviderConfig", "Subnet"):
            # Kinds the provider packages install, in the environment's namespace.
            assert packages <= names, f"{reg.name} must wait for the provider packages"
            assert f"namespace-{_environment_file(env)['namespace']}" in names
        elif layer == 3:
            assert names == {xrds[reg.inputs["spec"]["compositeTypeRef"]["kind"]]}
        elif layer == 5:
            kind = reg.inputs["kind"]
            compositions = {r.name for r in k8s if _layer(r) == 3
                            and r.inputs["spec"]["compositeTypeRef"]["kind"] == kind}
            assert xrds[kind] in names, f"{reg.name} does not wait for its XRD"
            assert compositions and compositions <= names, f"{reg.name} does not wait for its Compositions"
            assert f"namespace-{_environment_file(env)['namespace']}" in names


def _manifest_files(env: str) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    root = SETTINGS.manifests
    if not root.is_dir():
        pytest.fail(f"{root} is missing: run `aiplane synth` first (make test does)")
    out = {}
    for folder in (root / "platform", root / "environments" / env):
        for path in sorted(folder.rglob("*.yaml")):
            if path.name == "kustomization.yaml":
                continue
            obj = yaml.safe_load(path.read_text(encoding="utf-8"))
            out[_key(obj)] = obj
    return out


def test_registers_exactly_the_objects_flux_applies_from_manifests(env_run: tuple[str, Run]) -> None:
    env, run = env_run
    files = _manifest_files(env)
    registered = {_key(obj): obj for obj in kubernetes_objects(run)}
    assert sorted(registered) == sorted(files)
    different = [key for key in files if registered[key] != files[key]]
    assert not different, f"bodies differ from manifests/: {different}"


def test_logical_names_are_kind_namespace_name(env_run: tuple[str, Run]) -> None:
    env, run = env_run
    for reg in run.registrations:
        if reg.type.startswith("kubernetes:"):
            assert reg.name == logical_name(reg.inputs)
    ns = _environment_file(env)["namespace"]
    assert any(r.name == f"namespace-{ns}" for r in run.registrations)
    assert any(r.name == f"configmap-{ns}-aiplane-environment" for r in run.registrations)


def test_exports_xr_names_per_kind_and_the_cost_the_xrs_are_annotated_with(env_run: tuple[str, Run]) -> None:
    env, run = env_run
    declared = _environment_file(env)
    assert run.outputs["environment"] == env
    assert run.outputs["xrs"]["GPUNodePool"] == sorted(p["name"] for p in declared["nodePools"])
    assert run.outputs["xrs"]["ModelBucket"] == sorted(b["name"] for b in declared["buckets"])
    assert run.outputs["xrs"]["ModelEndpoint"] == sorted(e["name"] for e in declared["endpoints"])
    xrs = [o for o in kubernetes_objects(run) if o["apiVersion"].startswith(f"{XR_GROUP}/")]
    for which in ("worst-case", "expected"):
        annotated = [float(a) for o in xrs
                     if (a := o["metadata"].get("annotations", {}).get(f"aiplane.io/{which}-usd-per-hour"))]
        exported = run.outputs[f"{'worstCase' if which == 'worst-case' else 'expected'}UsdPerHour"]
        # Annotations are rounded to cents per XR; the export sums unrounded figures.
        assert exported == pytest.approx(sum(annotated), abs=0.01 * len(annotated))
    assert run.outputs["worstCaseUsdPerHour"] >= run.outputs["expectedUsdPerHour"] > 0


def test_shipped_environments_pass_the_policy_pack_rules(env_run: tuple[str, Run]) -> None:
    _env, run = env_run
    violations = run_rules(kubernetes_objects(run), default_context(SETTINGS), load_policy_config(SETTINGS))
    assert [v for v in violations if v.blocking] == []


def test_production_critical_pool_on_plain_spot_fails_spot_eligibility() -> None:
    run = run_program(lambda: deploy("risky", kube_context="ctx-risky", start=SPOT_MISUSE),
                      project="aiplane-platform", stack="risky")
    fixture_settings = load_settings(SPOT_MISUSE)
    violations = run_rules(kubernetes_objects(run), default_context(fixture_settings),
                           load_policy_config(SETTINGS))
    blocking = {(v.rule, v.kind, v.name) for v in violations if v.blocking}
    assert blocking == {("spot-eligibility", "GPUNodePool", "llm-inference")}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_stack_config_names_the_environment_and_carries_its_finops_stack_tags(env: str) -> None:
    config = yaml.safe_load((STACK_DIR / f"Pulumi.{env}.yaml").read_text())["config"]
    declared = _environment_file(env)
    assert config["aiplane:environment"] == env
    assert config["aiplane:kubeContext"] == declared["clusterName"]
    [loaded] = [e for e in _load_envs() if e.name == env]
    assert config["pulumi:tags"] == stack_tags(loaded)
    assert config["pulumi:tags"]["cost-center"] == declared["finops"]["costCenter"]


def _load_envs() -> list[Any]:
    from aiplane.synthesis.discovery import discover
    from aiplane.synthesis.environment import load_environments
    return [e.settings for e in load_environments(SETTINGS.environments, discover(SETTINGS))]


def test_project_runs_python_from_the_repository_virtualenv() -> None:
    project = yaml.safe_load((STACK_DIR / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    venv = (STACK_DIR / project["runtime"]["options"]["virtualenv"]).resolve()
    assert venv == ROOT / ".venv"
    assert (venv / "bin" / "python").exists()


def test_main_program_deploys_the_configured_environment() -> None:
    main = str(STACK_DIR / "__main__.py")
    run = run_program(lambda: runpy.run_path(main, run_name="__main__"), project="aiplane-platform",
                      stack="staging",
                      config={"aiplane:environment": "staging", "aiplane:kubeContext": "ai-staging"})
    direct = _run("staging")
    assert sorted(_key(o) for o in kubernetes_objects(run)) == sorted(_key(o) for o in kubernetes_objects(direct))
    assert run.outputs["environment"] == "staging"


def test_refuses_to_deploy_without_a_kube_context() -> None:
    with pytest.raises(ValueError, match="kubeContext"):
        run_program(lambda: deploy("dev"), project="aiplane-platform", stack="dev")


def test_kubernetes_context_config_uses_the_default_provider() -> None:
    run = run_program(lambda: deploy("dev"), project="aiplane-platform", stack="dev",
                      config={"kubernetes:context": "ai-dev"})
    assert run.of_type("pulumi:providers:kubernetes") == []
    assert len(kubernetes_objects(run)) > 0


def test_an_object_a_custom_resource_cannot_carry_is_refused_not_truncated() -> None:
    import pulumi
    obj = {"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w"}, "data": {"k": "v"}}
    with pytest.raises(UnsupportedObject, match="data"):
        register(obj, pulumi.ResourceOptions())


def test_unknown_environment_is_an_input_error() -> None:
    from aiplane.errors import InputError
    with pytest.raises(InputError, match="no environment named"):
        run_program(lambda: deploy("nope", kube_context="x"), project="aiplane-platform", stack="nope")


def test_stack_dir_has_one_config_file_per_shipped_environment() -> None:
    stacks = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml")
                    for p in STACK_DIR.glob("Pulumi.*.yaml"))
    assert stacks == sorted(ENVIRONMENTS)
