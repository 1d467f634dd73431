"""One Composition per API: what an XR composes follows its spec, so changing `capacity` or the ethics action
in Git changes what Crossplane composes (or, for the action, only what the monitor is told) without switching Compositions (function-aiplane decides)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from project_copy import copy_project, run_aiplane

from aiplane.crossplane.render import select_composition, settle


def _docs(folder: Path) -> list[dict]:
    return [d for p in sorted(folder.rglob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]


def _composed(project: Path, name: str) -> list[dict]:
    xr = yaml.safe_load((project / "manifests/environments/prod" / name).read_text())
    comps = [d for d in _docs(project / "manifests/platform") if d["kind"] == "Composition"]
    return [r.obj for r in settle(xr, select_composition(xr, comps)).resources]


def test_changing_capacity_changes_the_node_groups_not_the_composition(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    assert run_aiplane(project, "synth").returncode == 0
    pool = yaml.safe_load((project / "manifests/environments/prod/gpunodepool-fine-tuning.yaml").read_text())
    assert pool["spec"]["crossplane"] == {"compositionRef": {"name": "gpunodepools-eks"}}
    groups = [o for o in _composed(project, "gpunodepool-fine-tuning.yaml") if o["kind"] == "NodeGroup"]
    assert [g["spec"]["forProvider"]["capacityType"] for g in groups] == ["SPOT"]
    env = project / "environments/prod.yaml"
    env.write_text(env.read_text().replace("    capacity: spot\n    scaling: {minSize: 0, maxSize: 2}",
                                           "    capacity: onDemand\n    scaling: {minSize: 0, maxSize: 2}"))
    assert run_aiplane(project, "synth").returncode == 0
    groups = [o for o in _composed(project, "gpunodepool-fine-tuning.yaml") if o["kind"] == "NodeGroup"]
    assert [g["spec"]["forProvider"]["capacityType"] for g in groups] == ["ON_DEMAND"]


def test_changing_the_ethics_action_to_rollback_leaves_the_endpoint_as_it_is(tmp_path: Path) -> None:
    """The Endpoint's rollback alarm list is ForceNew, so it is the same under every action; turning
    rollback on changes what the monitor is told (its ConfigMap), not the Endpoint."""
    project = copy_project(tmp_path)
    assert run_aiplane(project, "synth").returncode == 0
    before = {o["kind"]: o for o in _composed(project, "modelendpoint-chat-assistant.yaml")}
    env = project / "environments/prod.yaml"
    env.write_text(env.read_text().replace("      action: alert\n      alertTarget: arn:aws:sns:us-east-1:777788889999",
                                           "      schedule: '*/5 * * * *'\n      action: rollback\n"
                                           "      alertTarget: arn:aws:sns:us-east-1:777788889999"))
    assert run_aiplane(project, "synth").returncode == 0
    after = {o["kind"]: o for o in _composed(project, "modelendpoint-chat-assistant.yaml")}
    assert after["Endpoint"] == before["Endpoint"]
    assert json.loads(after["ConfigMap"]["data"]["AIPLANE_MONITOR_SPEC"])["action"] == "rollback"
