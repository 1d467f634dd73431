"""`aiplane new api`: a scaffolded platform API synthesizes, validates and passes the guardrails at once, and
bad requests are refused with exit status 2 and nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from project_copy import REPO, copy_project, run_aiplane, tree_digest

CRDS = REPO / "src" / "aiplane" / "data" / "crds"
TOPIC_CRD = CRDS / "sns.aws.m.upbound.io_topics.yaml"
SUBSCRIPTION_CRD = CRDS / "sns.aws.m.upbound.io_topicsubscriptions.yaml"


def inputs_digest(project: Path) -> dict[str, str]:
    return {
        folder: str(tree_digest(project / folder))
        for folder in ("xrds", "compositions", "environments", "tests", "manifests")
    }


@pytest.fixture(scope="module")
def topic_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("newapi"))
    done = run_aiplane(project, "new", "api", "Topic", "--group", "ai.aiplane.io", "--from-crd", str(TOPIC_CRD), "--env", "dev")
    assert done.returncode == 0, done.stderr
    return project


def test_the_scaffold_writes_the_api_its_composition_a_test_and_an_environment_item(topic_project: Path) -> None:
    xrd = (topic_project / "xrds/topic.py").read_text()
    composition = (topic_project / "compositions/topic_sns.py").read_text()
    assert "class TopicSpec(CommonSpec):" in xrd and 'environment_key="topics"' in xrd
    assert '"sns.aws.m.upbound.io/v1beta1"' in composition and '{"tags": ctx.aws_tags()}' in composition
    assert (topic_project / "tests/test_topic_api.py").is_file()
    dev = (topic_project / "environments/dev.yaml").read_text()
    assert dev.startswith((REPO / "environments/dev.yaml").read_text())  # appended, the rest byte for byte
    assert dev.endswith("topics:\n- name: example\n  finops:\n    tier: experimental\n")


def test_the_whole_pipeline_passes_on_the_scaffolded_api(topic_project: Path) -> None:
    for command in (("synth",), ("synth", "--check"), ("validate", "--strict"), ("check",)):
        done = run_aiplane(topic_project, *command)
        assert done.returncode == 0, f"aiplane {' '.join(command)}: {done.stdout}{done.stderr}"
    xr = (topic_project / "manifests/environments/dev/topic-example.yaml").read_text()
    assert "kind: Topic" in xr and "tier: experimental" in xr
    composition = (topic_project / "manifests/platform/apis/composition-topics-sns.yaml").read_text()
    assert "patchSetName: finops-tags" in composition  # the FinOps tags reach the SNS topic
    assert "# Topic" in (topic_project / "docs/apis/topic.md").read_text()
    assert '"topics"' in (topic_project / "schemas/environment.schema.json").read_text()


def test_the_scaffolded_test_passes(topic_project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_topic_api.py"],
        cwd=topic_project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_required_fields_are_wired_and_forcenew_ones_immutable(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    done = run_aiplane(project, "new", "api", "Subscription", "--from-crd", str(SUBSCRIPTION_CRD))
    assert done.returncode == 0, done.stderr
    xrd = (project / "xrds/subscription.py").read_text()
    composition = (project / "compositions/subscription_sns.py").read_text()
    # The CRD's CEL rule makes protocol required; terraform-provider-aws cannot change it in place (ForceNew),
    # so the XR field is immutable and the forcenew-safe guardrail holds.
    assert 'from_xr("spec.protocol", "spec.forProvider.protocol", required=True)' in composition
    assert 'protocol: str = Field(json_schema_extra=immutable("the provider cannot change it in place"))' in xrd
    # topicArn and endpoint may come from references, so the CRD does not require them: the scaffold says so.
    assert "TopicSubscription can take these fields from a reference" in composition
    assert "`endpoint`, `subscriptionRoleArn`, `topicArn`." in composition
    # No value for protocol in the CRD: the printed entry asks for it rather than inventing one.
    assert "  # protocol: required, fill in (see xrds/subscription.py)\n  finops:" in done.stdout
    refused = run_aiplane(project, "new", "api", "Subscription2", "--from-crd", str(SUBSCRIPTION_CRD), "--env", "dev")
    assert refused.returncode == 2 and "protocol" in refused.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ModelBucket", "--from-crd", str(TOPIC_CRD)), "already exists"),
        (("modelBucket", "--from-crd", str(TOPIC_CRD)), "UpperCamelCase"),
        (("Model-Topic", "--from-crd", str(TOPIC_CRD)), "UpperCamelCase"),
        (("Topic", "--from-crd", str(CRDS / "pkg.crossplane.io_providers.yaml")), "not a provider managed resource CRD"),
        (("Topic", "--from-crd", str(CRDS / "s3.aws.upbound.io_buckets.yaml")), "not a provider managed resource CRD"),
        (("Topic", "--from-crd", str(REPO / "environments/dev.yaml")), "CustomResourceDefinition, found 0"),
        (("Topic", "--from-crd", str(REPO / "pyproject.toml")), "YAML error"),
        (("Topic", "--group", "other.example.org", "--from-crd", str(TOPIC_CRD)), "ai.aiplane.io"),
        (("Topic",), "--from-crd"),
        (("Topic", "--from-crd", str(TOPIC_CRD), "--env", "qa"), "no environment 'qa'"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_written(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    project = copy_project(tmp_path)
    before = inputs_digest(project)
    done = run_aiplane(project, "new", "api", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert inputs_digest(project) == before


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    (project / "tests").mkdir()
    (project / "tests/test_topic_api.py").write_text("# mine\n")
    done = run_aiplane(project, "new", "api", "Topic", "--from-crd", str(TOPIC_CRD))
    assert done.returncode == 2 and "never overwrites" in done.stderr
    assert (project / "tests/test_topic_api.py").read_text() == "# mine\n"
    assert not (project / "xrds/topic.py").exists()


def test_a_required_object_keeps_the_crds_schema(tmp_path: Path) -> None:
    """ScheduledAction requires scalableTargetAction, an object: the XRD carries the CRD's own schema of it."""
    project = copy_project(tmp_path)
    crd = CRDS / "appautoscaling.aws.m.upbound.io_scheduledactions.yaml"
    assert run_aiplane(project, "new", "api", "ScalingSchedule", "--from-crd", str(crd)).returncode == 0
    xrd = (project / "xrds/scalingschedule.py").read_text()
    assert "scalableTargetAction: Annotated[dict[str, Any], WithJsonSchema(SCALABLE_TARGET_ACTION_SCHEMA)]" in xrd
    env = project / "environments/dev.yaml"
    env.write_text(
        env.read_text()
        + "\nscalingSchedules:\n- name: morning\n  scheduledActionName: morning-up\n"
        + '  scalableTargetAction: {maxCapacity: "4"}\n  schedule: "cron(0 8 * * ? *)"\n'
        + "  finops: {tier: experimental}\n"
    )
    for command in (("synth",), ("check",)):
        done = run_aiplane(project, *command)
        assert done.returncode == 0, done.stdout + done.stderr
    # The provider's schema says string: an integer is refused as the API server would refuse it.
    env.write_text(env.read_text().replace('maxCapacity: "4"', "maxCapacity: 4"))
    wrong = run_aiplane(project, "synth")
    assert wrong.returncode == 1 and "spec.scalableTargetAction.maxCapacity" in wrong.stderr
