"""`aiplane plan`: every composed resource of every XR classified between the committed manifests/ at a git
revision and a synthesis now. Each case changes a shipped environment in a copy of the project (a git
repository whose HEAD is the committed state) and reads the plan as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "synth"))
from project_copy import copy_project, run_aiplane

from aiplane.catalog.instances import load_catalog
from aiplane.catalog.prices import dump_price_file
from aiplane.crossplane.plan import changed_fields

FAKE_HISTORY = ["-c", "user.name=t", "-c", "user.email=t@example.com"]


def _repo(tmp_path: Path) -> Path:
    project = copy_project(tmp_path)
    assert run_aiplane(project, "synth").returncode == 0
    for args in (["init", "-q"], ["add", "-A"], [*FAKE_HISTORY, "commit", "-qm", "live"]):
        subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)
    return project


def _plan(project: Path, *args: str) -> tuple[int, dict[str, Any]]:
    done = run_aiplane(project, "plan", "--format", "json", *args)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def _edit(project: Path, env: str, old: str, new: str) -> None:
    path = project / "environments" / f"{env}.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _actions(plan: dict[str, Any], name: str) -> dict[str, str]:
    xr = next(x for x in plan["xrs"] if x["name"] == name)
    return {r["resource"].rsplit("-", 1)[0] if r["action"] == "replace" else r["resource"]: r["action"]
            for r in xr["resources"]}


def test_no_change_plans_nothing(tmp_path: Path) -> None:
    project = _repo(tmp_path)
    code, plan = _plan(project)
    assert code == 0 and plan["xrs"] == [] and plan["against"] == "HEAD" and plan["refused"] == 0


def test_a_new_image_replaces_model_and_configuration_and_updates_the_endpoint(tmp_path: Path) -> None:
    project = _repo(tmp_path)
    _edit(project, "prod", "chat-assistant:2.2.4", "chat-assistant:2.3.0")
    code, plan = _plan(project)
    assert code == 0 and plan["refused"] == 0
    # The execution role's image-pull grant names the repository, not the tag: unchanged.
    assert _actions(plan, "chat-assistant") == {"model": "replace", "endpoint-config": "replace", "endpoint": "update"}


def test_new_instance_types_replace_the_node_group_create_before_destroy(tmp_path: Path) -> None:
    project = _repo(tmp_path)
    _edit(project, "prod", "instanceTypes: [p4d.24xlarge]", "instanceTypes: [p5.48xlarge]")
    code, plan = _plan(project)
    fine_tuning = next(x for x in plan["xrs"] if x["name"] == "fine-tuning")
    [change] = fine_tuning["resources"]
    assert change["action"] == "replace" and change["replaces"].startswith("nodegroup-spot")
    assert "spec.forProvider.instanceTypes" in change["fields"]
    assert fine_tuning["worstCaseUsdPerHour"]["before"] < fine_tuning["worstCaseUsdPerHour"]["after"]
    # Nothing refused, but p5 at max scale breaks the pool's maxCostPerHour: a mandatory guardrail → exit 1.
    assert plan["refused"] == 0 and plan["guardrailViolations"] > 0 and code == 1


def test_a_scaling_change_is_an_in_place_update(tmp_path: Path) -> None:
    project = _repo(tmp_path)
    _edit(project, "prod", "scaling: {minSize: 0, maxSize: 2}", "scaling: {minSize: 0, maxSize: 1}")
    code, plan = _plan(project)
    [change] = next(x for x in plan["xrs"] if x["name"] == "fine-tuning")["resources"]
    assert change["action"] == "update" and change["fields"] == ["spec.forProvider.scalingConfig.maxSize"]
    assert code == 0


def test_switching_the_action_to_rollback_is_never_refused(tmp_path: Path) -> None:
    """The Endpoint's rollback alarm list is fixed (ForceNew); the action decides only what the monitor
    publishes, so turning rollback on changes the monitor's configuration and nothing SageMaker holds."""
    project = _repo(tmp_path)
    _edit(project, "prod", "      action: alert\n      alertTarget: arn:aws:sns:us-east-1:777788889999",
          "      schedule: '*/5 * * * *'\n      action: rollback\n      alertTarget: arn:aws:sns:us-east-1:777788889999")
    code, plan = _plan(project)
    assert code == 0 and plan["refused"] == 0
    changed = _actions(plan, "chat-assistant")
    assert "endpoint" not in changed and set(changed.values()) == {"update"}


def test_an_in_place_forcenew_change_is_refused_and_exits_1(tmp_path: Path) -> None:
    """A Composition edit that sets a ForceNew field on an existing resource (an IAM role's path): the
    provider would refuse the update, so the plan says refused and exits 1."""
    project = _repo(tmp_path)
    composition = project / "compositions" / "modelendpoint_sagemaker.py"
    text = composition.read_text()
    assert '"assumeRolePolicy": SAGEMAKER_TRUST,' in text
    composition.write_text(text.replace('"assumeRolePolicy": SAGEMAKER_TRUST,',
                                        '"assumeRolePolicy": SAGEMAKER_TRUST, "path": "/aiplane/",', 1))
    code, plan = _plan(project)
    endpoints = [x for x in plan["xrs"] if x["kind"] == "ModelEndpoint"]
    assert code == 1 and plan["refused"] == len(endpoints) == 4
    role = next(r for r in endpoints[0]["resources"] if r["resource"] == "execution-role")
    assert role["action"] == "refused" and role["forceNew"] == ["spec.forProvider.path"]
    text_plan = run_aiplane(project, "plan")
    assert text_plan.returncode == 1 and "✗ refused  Role execution-role" in text_plan.stdout


def test_a_removed_quota_is_orphaned_not_deleted_in_aws(tmp_path: Path) -> None:
    project = _repo(tmp_path)
    _edit(project, "dev", "quotas: auto", "quotas: []")
    # Quota coverage now fails (a mandatory guardrail): the plan still shows what would happen.
    code, plan = _plan(project)
    assert code == 1 and plan["refused"] == 0
    deletes = [r for x in plan["xrs"] if x["kind"] == "AcceleratorQuota" for r in x["resources"]]
    assert deletes and all(r["action"] == "delete" and r["orphaned"] for r in deletes)
    markdown = run_aiplane(project, "plan", "--format", "markdown").stdout
    # The first line is the hidden marker a CI job finds its one plan comment by (docs/ci.md).
    assert markdown.startswith("<!-- aiplane-plan-comment -->\n### ") and "<details>" in markdown


def test_a_bad_revision_is_one_line_and_exit_2(tmp_path: Path) -> None:
    project = _repo(tmp_path)
    done = run_aiplane(project, "plan", "--against", "no-such-ref")
    assert done.returncode == 2 and "no-such-ref" in done.stderr and "Traceback" not in done.stderr


def test_changed_fields_are_leaf_paths_and_lists_whole() -> None:
    assert changed_fields({"a": {"b": 1, "c": [1, 2]}}, {"a": {"b": 2, "c": [1, 3]}}) == ["a.b", "a.c"]
    assert changed_fields({"a": 1}, {"a": 1}) == []


def test_a_change_of_an_immutable_field_is_refused_by_design(tmp_path: Path) -> None:
    """The XRD says `self == oldSelf` for region: the API server would refuse the XR's update itself."""
    project = _repo(tmp_path)
    # dev's endpoint needs a SageMaker price in us-west-2, which aiplane does not ship: the project brings its
    # own (test data: us-east-1's figures under us-west-2), as `aiplane catalog refresh` would write it.
    shipped = load_catalog().price_files[("sagemaker", "us-east-1")].price_file
    own = project / "prices/us-west-2/sagemaker.yaml"
    own.parent.mkdir(parents=True)
    own.write_text(dump_price_file(shipped.model_copy(update={"region": "us-west-2"}), "test data"))
    _edit(project, "dev", "region: us-east-1", "region: us-west-2")
    code, plan = _plan(project)
    assert code == 1
    bucket = next(x for x in plan["xrs"] if x["kind"] == "ModelBucket")
    assert bucket["immutableChanged"] == ["spec.region"]
    assert plan["refused"] >= 1
    text = run_aiplane(project, "plan").stdout
    assert "✗ refused  spec.region: immutable" in text
