"""GPUNodePool: `capacity` decides which node groups exist, and a change the provider cannot apply in place
replaces a node group create-before-destroy.

P&T composes both node groups, each sized by `scaling`. onDemand keeps the on-demand group, spot the spot
group; mixed keeps both and pins the on-demand group to `onDemandBaseSize` nodes (min = max = base, and the
initial desired size), the spot group bursting within `scaling`.

Instance types, AMI type, disk size, subnets, capacity type and the node role are ForceNew on an EKS node group
(src/aiplane/data/forcenew.yaml): the provider refuses to change them in place. So each node group is a
content-addressed revision, `nodegroup-<on-demand|spot>-<h>` (AWS name `<env>-<pool>-<ondemand|spot>-<h>`),
`h` hashing everything but what EKS updates in place (IN_PLACE: scaling, labels, taints, tags, Kubernetes
and AMI release versions). A change creates the new node group while the old one keeps its nodes; once the
new one is Ready the old one is deleted (EKS drains it). Scaling and version changes stay in-place updates of
the same revision. A change of `capacity` keeps the node groups of the purchase option it drops until those
that take over are Ready. A node group of a release before revisions (`nodegroup-on-demand`, `nodegroup-spot`) is
adopted as it is while its ForceNew fields still match, so upgrading aiplane replaces nothing.
"""

from __future__ import annotations

from typing import Any

from aiplane.function.model import Object, Outcome, Request, ensure, get
from aiplane.function.revisions import EXTERNAL_NAME, content_hash, is_revision, ready, superseded

KIND = "GPUNodePool"
ON_DEMAND = "nodegroup-on-demand"
SPOT = "nodegroup-spot"
CAPACITIES = ("onDemand", "spot", "mixed")
STATUS_KEY = {ON_DEMAND: "onDemand", SPOT: "spot"}
# forProvider fields of aws_eks_node_group that Update changes in place (everything else forces a new node
# group; tests/function/test_gpunodepool_rollout.py checks this list against forcenew.yaml).
IN_PLACE = frozenset(
    {"scalingConfig", "labels", "taint", "tags", "version", "releaseVersion", "updateConfig",
     "forceUpdateVersion", "nodeRepairConfig"}
)


def decide(request: Request) -> Outcome:
    desired = dict(request.desired)
    capacity = request.spec.get("capacity", "onDemand")
    if capacity not in CAPACITIES:
        # The XRD's enum refuses this; an older XRD or a hand-edited CRD might not. Compose no node group
        # rather than guess which purchase option was meant.
        desired.pop(ON_DEMAND, None)
        desired.pop(SPOT, None)
        return Outcome(desired, warnings=[f"capacity {capacity!r} is not one of {', '.join(CAPACITIES)}"])
    warnings = []
    if capacity == "onDemand":
        desired.pop(SPOT, None)
    elif capacity == "spot":
        desired.pop(ON_DEMAND, None)
    else:
        base = request.spec.get("onDemandBaseSize")
        node_group = desired.get(ON_DEMAND)
        if base is None:
            desired.pop(ON_DEMAND, None)
            warnings.append("capacity mixed needs onDemandBaseSize; no on-demand node group")
        elif node_group is not None:
            scaling = ensure(node_group, "spec", "forProvider", "scalingConfig")
            scaling["minSize"] = base
            scaling["maxSize"] = base
            ensure(node_group, "spec", "initProvider", "scalingConfig")["desiredSize"] = base
    wanted = {"onDemand": (ON_DEMAND,), "spot": (SPOT,), "mixed": (ON_DEMAND, SPOT)}[capacity]
    status: dict[str, Any] = {}
    currents, dropped = [], []
    for base_name in (ON_DEMAND, SPOT):
        node_group = desired.pop(base_name, None)
        if node_group is not None:
            current, report = _roll_out(base_name, node_group, desired, request)
            currents.append(current)
            status.update(report)
        elif base_name in wanted:
            # P&T left it out (a Required input is missing): keep what exists rather than let Crossplane
            # delete a node group with running nodes.
            desired.update(superseded(request.observed, base_name, ""))
        else:
            dropped.append(base_name)
    # A capacity change (spot to onDemand, say) drops a purchase option: its node groups keep their nodes
    # until every node group that takes over is Ready.
    if not all(ready(request.observed.get(name)) for name in currents):
        for base_name in dropped:
            desired.update(superseded(request.observed, base_name, ""))
    return Outcome(desired, status, warnings)


def _matches(observed: Any, wanted: Object) -> bool:
    """Whether an observed node group has the ForceNew fields `wanted` asks for (compared on the fields
    `wanted` sets: the provider adds resolved references and late-initialized values to the observed spec)."""
    live = get(observed, "spec", "forProvider") or {}
    fields = [k for k in (get(wanted, "spec", "forProvider") or {}) if k not in IN_PLACE]
    restricted = {"spec": {"forProvider": {k: live.get(k) for k in fields}}}
    return content_hash(restricted, IN_PLACE) == content_hash(wanted, IN_PLACE)


def _roll_out(
    base_name: str, node_group: Object, desired: dict[str, Object], request: Request
) -> tuple[str, dict[str, Any]]:
    """Place the node group P&T composed as its current revision, keep superseded revisions until it is
    Ready, and report the serving revision's status."""
    observed = request.observed
    legacy = observed.get(base_name)
    if legacy is not None and _matches(legacy, node_group):
        current = base_name  # adopted: same composition resource and AWS name as before revisions
    else:
        digest = content_hash(node_group, IN_PLACE)
        current = f"{base_name}-{digest}"
        annotations = ensure(node_group, "metadata", "annotations")
        if isinstance(annotations.get(EXTERNAL_NAME), str):
            annotations[EXTERNAL_NAME] = f"{annotations[EXTERNAL_NAME]}-{digest}"
    desired[current] = node_group
    if not ready(observed.get(current)):
        desired.update(superseded(observed, base_name, current))
    # The revision serving now: the current one once Ready, until then the superseded one still kept.
    serving = current if ready(observed.get(current)) else next(
        (n for n in sorted(desired) if n != current and n in observed and is_revision(n, base_name)), None
    )
    at_provider = get(observed.get(serving) if serving else None, "status", "atProvider") or {}
    report: dict[str, Any] = {}
    if "status" in at_provider:
        report["status"] = at_provider["status"]
    desired_size = get(at_provider, "scalingConfig", "desiredSize")
    if isinstance(desired_size, int | float):
        report["desiredSize"] = int(desired_size)
    return current, ({STATUS_KEY[base_name]: report} if report else {})
