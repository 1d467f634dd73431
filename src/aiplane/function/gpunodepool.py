"""GPUNodePool: `capacity` decides which node groups exist.

P&T composes both node groups, each sized by `scaling`. onDemand keeps the on-demand group, spot the spot
group; mixed keeps both and pins the on-demand group to `onDemandBaseSize` nodes (min = max = base, and the
initial desired size), the spot group bursting within `scaling`. The on-demand group keeps one composition
resource name (and so one AWS node group) across onDemand and mixed, so moving between them resizes it
instead of replacing it; a group that is no longer wanted is deleted by Crossplane.
"""

from __future__ import annotations

from aiplane.function.model import Outcome, Request, ensure

KIND = "GPUNodePool"
ON_DEMAND = "nodegroup-on-demand"
SPOT = "nodegroup-spot"
CAPACITIES = ("onDemand", "spot", "mixed")


def decide(request: Request) -> Outcome:
    desired = dict(request.desired)
    capacity = request.spec.get("capacity", "onDemand")
    if capacity not in CAPACITIES:
        # The XRD's enum refuses this; an older XRD or a hand-edited CRD might not. Compose no node group
        # rather than guess which purchase option was meant.
        desired.pop(ON_DEMAND, None)
        desired.pop(SPOT, None)
        return Outcome(desired, warnings=[f"capacity {capacity!r} is not one of {', '.join(CAPACITIES)}"])
    if capacity == "onDemand":
        desired.pop(SPOT, None)
    elif capacity == "spot":
        desired.pop(ON_DEMAND, None)
    else:
        base = request.spec.get("onDemandBaseSize")
        node_group = desired.get(ON_DEMAND)
        if base is None:
            desired.pop(ON_DEMAND, None)
            return Outcome(desired, warnings=["capacity mixed needs onDemandBaseSize; no on-demand node group"])
        if node_group is not None:
            scaling = ensure(node_group, "spec", "forProvider", "scalingConfig")
            scaling["minSize"] = base
            scaling["maxSize"] = base
            ensure(node_group, "spec", "initProvider", "scalingConfig")["desiredSize"] = base
    return Outcome(desired)
