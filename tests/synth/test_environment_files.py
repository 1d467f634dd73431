"""environments/<env>.yaml: defaults merge, quotas auto, and errors a person can act on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from project_copy import REPO

from aiplane.errors import InputError
from aiplane.project import Settings
from aiplane.synthesis.discovery import Project, discover
from aiplane.synthesis.environment import Environment, load_environment


@pytest.fixture(scope="module")
def project(settings: Settings) -> Project:
    return discover(settings)


@pytest.fixture(scope="module")
def prod(project: Project) -> Environment:
    return load_environment(REPO / "environments/prod.yaml", project)


def problems_for(tmp_path: Path, project: Project, text: str, name: str = "prod") -> list[str]:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_environment(path, project)
    return [str(p).replace(str(tmp_path) + "/", "") for p in caught.value.problems]


def prod_text() -> str:
    return (REPO / "environments/prod.yaml").read_text()


def item(env: Environment, kind: str, name: str) -> dict:
    found = next(i for i in env.items if i.api.kind == kind and i.name == name)
    return found.spec.model_dump(mode="json", by_alias=True)


def test_item_values_win_and_the_environment_fills_the_rest(prod: Environment) -> None:
    llm = item(prod, "GPUNodePool", "llm-inference")
    tuning = item(prod, "GPUNodePool", "fine-tuning")
    assert llm["finops"]["costCenter"] == "llm-serving"  # the item's own value
    assert tuning["finops"]["costCenter"] == "ml-products"  # the environment's
    assert tuning["finops"]["owner"] == "ml-platform"
    assert llm["region"] == "us-east-1" and llm["clusterName"] == "ai-prod"
    assert llm["subnetSelector"] == {"networking.aiplane.io/tier": "private"}
    assert tuning["taints"][1] == {"key": "workload", "value": "training", "effect": "NO_SCHEDULE"}
    assert llm["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert item(prod, "GPUNodePool", "neuron-inference")["amiType"] == "AL2023_x86_64_NEURON"
    assert llm["amiType"] == "AL2023_x86_64_NVIDIA"


def test_endpoint_thresholds_merge_over_the_environment_defaults(prod: Environment) -> None:
    chat = item(prod, "ModelEndpoint", "chat-assistant")["ethicsMonitor"]["thresholds"]
    # Per severity, field by field: the endpoint's own values over the environment's.
    assert chat == {
        "critical": {"demographicParityDifference": 0.05, "demographicParityRatio": 0.8, "equalizedOddsDifference": 0.1},
        "warning": {"demographicParityDifference": 0.04, "demographicParityRatio": 0.85, "equalizedOddsDifference": 0.07},
    }
    fraud = item(prod, "ModelEndpoint", "fraud-scoring")
    assert fraud["ethicsMonitor"]["thresholds"]["critical"]["demographicParityDifference"] == 0.08
    assert fraud["clusterName"] == "ai-prod"  # the monitor's Pod Identity association
    assert fraud["bucketRef"] == {"name": "captures", "bucketName": "prod-captures-777788889999"}


def test_quotas_auto_cover_max_scale_per_class_and_purchase(prod: Environment) -> None:
    derived = [item(prod, "AcceleratorQuota", i.name) for i in prod.items_of("AcceleratorQuota")]
    quotas = {(q["class"], q["purchase"]): q["vcpus"] for q in derived if q.get("service", "ec2") == "ec2"}
    # Hand-checked: llm-inference g5/g6.12xlarge = 48 vCPU: on-demand base 2 → 96, spot burst 6 → 288;
    # fine-tuning p4d.24xlarge = 96 vCPU, spot 2 → 192; neuron-inference inf2.48xlarge = 192 vCPU, 2 → 384.
    assert quotas == {("g", "onDemand"): 96, ("g", "spot"): 288, ("p", "spot"): 192, ("inf", "onDemand"): 384}
    # And the endpoints' SageMaker instance quotas, where the code is confirmed: fraud-scoring 2 × ml.m5.xlarge,
    # chat-assistant up to 6 × ml.g5.2xlarge (its autoscaling maxInstances).
    endpoints = {q["instanceType"]: q["instances"] for q in derived if q.get("service") == "sagemaker"}
    assert endpoints == {"ml.m5.xlarge": 2, "ml.g5.2xlarge": 6}
    derived = item(prod, "AcceleratorQuota", "g-on-demand-us-east-1")
    assert derived["finops"]["tier"] == "production-critical", "a quota serves its most critical pool"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    instanceTypes: [p4d.24xlarge]",
            "    instanceType: [p4d.24xlarge]",
            "prod.yaml:38:5: nodePools[1].instanceType: unknown field 'instanceType'; did you mean 'instanceTypes'?",
        ),
        (
            "scaling: {minSize: 0, maxSize: 2}\n    taints",
            "scaling: {minSize: 3, maxSize: 2}\n    taints",
            "prod.yaml:40:15: nodePools[1].scaling.minSize: minSize (3) must not exceed maxSize (2)",
        ),
        (
            "    instanceTypes: [p4d.24xlarge]",
            "    instanceTypes: [p4d.24xlarg]",
            "prod.yaml:38:21: nodePools[1].instanceTypes[0]: unknown EC2 instance type 'p4d.24xlarg'; did you mean p4d.24xlarge",
        ),
        (
            "  - name: neuron-inference",
            "  - name: fine-tuning",
            "nodePools[2].name: duplicate name 'fine-tuning' (also nodePools[1])",
        ),
        (
            "    bucketRef: {name: captures}\n    dataCapture: {samplingPercent: 20",
            "    bucketRef: {name: logs}\n    dataCapture: {samplingPercent: 20",
            "endpoints[0].bucketRef.name: bucket 'logs' is not declared in this environment's buckets",
        ),
        (
            "  budgetPerHour: 150",
            "  budgetPerHour: lots",
            "prod.yaml:18:3: finops.budgetPerHour: Input should be a valid number",
        ),
    ],
)
def test_bad_input_names_file_line_column_and_field(
    tmp_path: Path, project: Project, old: str, new: str, expected: str
) -> None:
    assert old in prod_text()
    problems = problems_for(tmp_path, project, prod_text().replace(old, new, 1))
    assert any(expected in p for p in problems), problems


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path, project: Project) -> None:
    problems = problems_for(
        tmp_path, project, prod_text().replace("region: us-east-1", "region: [us-east-1", 1)
    )
    assert len(problems) == 1 and problems[0].startswith("prod.yaml:") and "YAML error" in problems[0]


def test_al2_ami_is_rejected_with_the_reason(tmp_path: Path, project: Project) -> None:
    text = prod_text().replace("    diskSizeGiB: 500", "    diskSizeGiB: 500\n    amiType: AL2_x86_64_GPU", 1)
    problems = problems_for(tmp_path, project, text)
    assert any("end of support on 2025-11-26" in p for p in problems), problems


def test_every_problem_is_reported_at_once(tmp_path: Path, project: Project) -> None:
    text = (
        prod_text().replace("maxSize: 6", "maxSize: 0").replace("samplingPercent: 10", "samplingPercent: 900")
    )
    problems = problems_for(tmp_path, project, text)
    assert len(problems) >= 2


MUTATIONS = st.sampled_from(["delete", "null", "string", "number", "list", "typo"])


def _mutate(data: object, path: list[object], how: str) -> object:
    parent = data
    for key in path[:-1]:
        parent = parent[key]  # type: ignore[index]
    key = path[-1]
    if how == "delete":
        del parent[key]  # type: ignore[arg-type, union-attr]
    elif how == "typo" and isinstance(key, str):
        parent[key + "x"] = parent.pop(key)  # type: ignore[union-attr, index]
    else:
        parent[key] = {"null": None, "string": "zzz", "number": -7, "list": [1], "typo": "x"}[how]  # type: ignore[index]
    return data


def _paths(value: object, prefix: list[object]) -> list[list[object]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, [*prefix, k])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, [*prefix, i])
    return out


PROD = yaml.safe_load((REPO / "environments/prod.yaml").read_text())
ALL_PATHS = _paths(PROD, [])


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(index=st.integers(min_value=0, max_value=len(ALL_PATHS) - 1), how=MUTATIONS)
def test_random_mutations_never_raise_anything_but_input_errors(
    tmp_path: Path, project: Project, index: int, how: str
) -> None:
    import copy

    data = _mutate(copy.deepcopy(PROD), ALL_PATHS[index], how)
    path = tmp_path / "prod.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        load_environment(path, project)
    except InputError as err:
        assert err.problems and all(str(p) for p in err.problems)


@pytest.fixture(scope="module")
def synthesized_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from project_copy import copy_project, run_aiplane

    project_dir = copy_project(tmp_path_factory.mktemp("mutations"))
    assert run_aiplane(project_dir, "synth").returncode == 0
    return project_dir


@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(index=st.integers(min_value=0, max_value=len(ALL_PATHS) - 1), how=MUTATIONS)
def test_a_mutated_environment_never_leaves_partial_output(synthesized_copy: Path, index: int, how: str) -> None:
    """The real command on a mutated file: no traceback, and on failure manifests/ is exactly as it was."""
    import copy

    from project_copy import run_aiplane, tree_digest

    before = tree_digest(synthesized_copy / "manifests")
    env_file = synthesized_copy / "environments/prod.yaml"
    env_file.write_text(yaml.safe_dump(_mutate(copy.deepcopy(PROD), ALL_PATHS[index], how)))
    try:
        result = run_aiplane(synthesized_copy, "synth")
        assert "Traceback" not in result.stderr
        assert result.returncode in (0, 2), result.stderr
        if result.returncode != 0:
            assert tree_digest(synthesized_copy / "manifests") == before
    finally:
        shutil.copy2(REPO / "environments/prod.yaml", env_file)
        if run_aiplane(synthesized_copy, "synth", "--check").returncode != 0:
            assert run_aiplane(synthesized_copy, "synth").returncode == 0


def test_a_second_block_of_the_same_key_is_refused_not_merged(tmp_path: Path, project: Project) -> None:
    problems = problems_for(tmp_path, project, prod_text() + "nodePools: []\n")
    assert len(problems) == 1 and "duplicate key 'nodePools'" in problems[0], problems


def test_two_quotas_for_the_same_aws_quota_are_refused(tmp_path: Path, project: Project) -> None:
    quota = "  - {name: %s, class: g, purchase: spot, vcpus: 64, finops: {tier: batch}}\n"
    text = prod_text().replace("quotas: auto\n", "quotas:\n" + quota % "g-a" + quota % "g-b")
    problems = problems_for(tmp_path, project, text)
    assert any("quotas[1]: manages the same AWS object (us-east-1, ec2, g, spot) as quotas[0]" in p for p in problems)


def test_capture_bucket_must_be_a_captures_bucket(tmp_path: Path, project: Project) -> None:
    text = prod_text().replace("    bucketRef: {name: captures}\n    dataCapture: {samplingPercent: 20",
                               "    bucketRef: {name: artifacts}\n    dataCapture: {samplingPercent: 20")
    problems = problems_for(tmp_path, project, text)
    assert any("endpoints[0].bucketRef.name: bucket 'artifacts' has purpose 'artifacts'" in p for p in problems)


def test_mixed_capacity_needs_at_least_one_on_demand_node(tmp_path: Path, project: Project) -> None:
    problems = problems_for(tmp_path, project, prod_text().replace("onDemandBaseSize: 2", "onDemandBaseSize: 0"))
    assert any("nodePools[0].onDemandBaseSize: Input should be greater than or equal to 1" in p for p in problems)


def test_an_arm_ami_on_x86_instances_is_refused(tmp_path: Path, project: Project) -> None:
    text = prod_text().replace("    diskSizeGiB: 500", "    diskSizeGiB: 500\n    amiType: AL2023_ARM_64_NVIDIA", 1)
    problems = problems_for(tmp_path, project, text)
    assert any("built for arm64, the instances are x86_64" in p for p in problems), problems
