"""XRs name their Composition, so changing a variant in Git changes what Crossplane composes."""

from __future__ import annotations

from pathlib import Path

import yaml
from project_copy import copy_project, run_aiplane


def xr(project: Path, name: str) -> dict:
    return yaml.safe_load((project / "manifests/environments/prod" / name).read_text())


def test_changing_capacity_switches_the_composition_ref(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    assert run_aiplane(project, "synth").returncode == 0
    pool = xr(project, "gpunodepool-fine-tuning.yaml")
    assert pool["spec"]["crossplane"] == {"compositionRef": {"name": "gpunodepools-eks-spot"}}
    env = project / "environments/prod.yaml"
    env.write_text(env.read_text().replace("    capacity: spot\n    scaling: {minSize: 0, maxSize: 2}",
                                           "    capacity: onDemand\n    scaling: {minSize: 0, maxSize: 2}"))
    assert run_aiplane(project, "synth").returncode == 0
    pool = xr(project, "gpunodepool-fine-tuning.yaml")
    # A compositionSelector would be ignored once Crossplane has chosen; a changed ref is followed.
    assert pool["spec"]["crossplane"] == {"compositionRef": {"name": "gpunodepools-eks-on-demand"}}


def test_changing_the_ethics_action_switches_to_the_rollback_composition(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    env = project / "environments/prod.yaml"
    env.write_text(env.read_text().replace("      action: alert\n      alertTarget: arn:aws:sns:us-east-1:777788889999",
                                           "      action: rollback\n      alertTarget: arn:aws:sns:us-east-1:777788889999"))
    assert run_aiplane(project, "synth").returncode == 0
    endpoint = xr(project, "modelendpoint-chat-assistant.yaml")
    assert endpoint["spec"]["crossplane"] == {"compositionRef": {"name": "modelendpoints-sagemaker-rollback"}}
