"""GPUNodePool node groups are content-addressed revisions: a ForceNew change (instance types, AMI, disk,
subnets) replaces a node group create-before-destroy, a scaling change stays in place, and a node group of a
release before revisions is adopted while it matches. Rendered in process through the shipped Composition."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from aiplane.crossplane.render import Rendering, render_composition, settle
from aiplane.function.gpunodepool import IN_PLACE, SPOT
from aiplane.project import load_settings

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = load_settings(ROOT).manifests
XR_FILE = MANIFESTS / "environments/prod/gpunodepool-fine-tuning.yaml"  # capacity spot
COMPOSITION = MANIFESTS / "platform/apis/composition-gpunodepools-eks.yaml"


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc


def _observe(rendering: Rendering, ready: set[str], before: dict[str, Any] | None = None) -> dict[str, Any]:
    out = dict(before or {})
    for r in rendering.resources:
        obj = copy.deepcopy(r.obj)
        at_provider = {"status": "ACTIVE" if r.name in ready else "CREATING",
                       "scalingConfig": {"desiredSize": 1.0}}
        obj["status"] = {"conditions": [{"type": "Ready", "status": "True" if r.name in ready else "False"}],
                         "atProvider": at_provider}
        out[r.name] = obj
    names = {r.name for r in rendering.resources}
    return {k: v for k, v in out.items() if k in names}


def _spot(rendering: Rendering) -> list[str]:
    return sorted(r.name for r in rendering.resources if r.name.startswith(SPOT))


def test_in_place_fields_are_exactly_what_eks_updates_without_replacing() -> None:
    """IN_PLACE is checked against the ForceNew data extracted from terraform-provider-aws: no ForceNew field
    is treated as in place (which would make the provider refuse the update)."""
    data = yaml.safe_load((ROOT / "src/aiplane/data/forcenew.yaml").read_text())
    node_group = next(k for k in data["kinds"] if k["kind"] == "NodeGroup")
    forcenew_keys = {entry["path"].split(".")[2] for entry in node_group["forceNew"]}
    assert forcenew_keys & IN_PLACE == set()
    assert {"instanceTypes", "amiType", "diskSize", "subnetIds", "capacityType"} <= forcenew_keys


def test_a_scaling_change_updates_the_same_node_group_in_place() -> None:
    xr, comp = _load(XR_FILE), _load(COMPOSITION)
    before = _spot(settle(xr, comp))
    xr["spec"]["scaling"]["maxSize"] += 2
    assert _spot(settle(xr, comp)) == before


def test_new_instance_types_replace_the_node_group_create_before_destroy() -> None:
    xr, comp = _load(XR_FILE), _load(COMPOSITION)
    steady = settle(xr, comp)
    [old] = _spot(steady)
    observed = _observe(steady, ready={r.name for r in steady.resources})

    xr["spec"]["instanceTypes"] = ["p5.48xlarge"]
    step = render_composition(xr, comp, observed=observed)
    [new] = [n for n in _spot(step) if n != old]
    assert _spot(step) == sorted([old, new]), "the old node group keeps its nodes while the new one comes up"
    by_name = {r.name: r for r in step.resources}
    assert by_name[new].external_name == f"prod-fine-tuning-spot-{new[-4:]}"
    assert by_name[new].for_provider["instanceTypes"] == ["p5.48xlarge"]
    assert by_name[old].for_provider["instanceTypes"] == ["p4d.24xlarge"], "the old one is not changed"
    assert step.status["spot"]["status"] == "ACTIVE", "status reports the node group still serving"

    observed = _observe(step, ready=set(observed) | {new}, before=observed)
    done = render_composition(xr, comp, observed=observed)
    assert _spot(done) == [new], "once the new node group is Ready, the old one goes"


def test_a_node_group_from_before_revisions_is_adopted_while_it_matches() -> None:
    xr, comp = _load(XR_FILE), _load(COMPOSITION)
    steady = settle(xr, comp)
    legacy: dict[str, Any] = {}
    for r in steady.resources:
        name = SPOT if r.name.startswith(SPOT) else r.name
        obj = copy.deepcopy(r.obj)
        if name == SPOT:
            obj["metadata"]["annotations"]["crossplane.io/external-name"] = "prod-fine-tuning-spot"
            # What the provider adds: resolved references and late-initialized values.
            obj["spec"]["forProvider"]["subnetIds"] = ["subnet-0a1b2c3d4e5f60718"]
            obj["spec"]["forProvider"]["releaseVersion"] = "1.31.0-20250101"
        obj["status"] = {"conditions": [{"type": "Ready", "status": "True"}], "atProvider": {}}
        legacy[name] = obj
    step = render_composition(xr, comp, observed=legacy)
    assert _spot(step) == [SPOT], "upgrading aiplane replaces no node group"
    assert next(r for r in step.resources if r.name == SPOT).external_name == "prod-fine-tuning-spot"
    xr["spec"]["diskSizeGiB"] = 900
    step = render_composition(xr, comp, observed=legacy)
    assert len(_spot(step)) == 2 and SPOT in _spot(step), "a ForceNew change replaces it create-before-destroy"
