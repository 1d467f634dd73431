"""Which logic serves which XR kind; a kind with none passes through unchanged (an API a team added
whose Composition lists this step does not break)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aiplane.function import acceleratorquota, gpunodepool, modelbucket, modelendpoint
from aiplane.function.model import Outcome, Request

LOGIC: Mapping[str, Callable[[Request], Outcome]] = {
    module.KIND: module.decide for module in (acceleratorquota, gpunodepool, modelbucket, modelendpoint)
}

# Composed resources (P&T names) this function turns into content-addressed revisions, replaced
# create-before-destroy when a field the provider cannot update in place changes (aiplane.function.revisions):
# the forcenew-safe guardrail lets a Composition that runs this step patch their ForceNew fields.
REVISIONED: Mapping[str, frozenset[str]] = {
    modelendpoint.KIND: frozenset({modelendpoint.MODEL, modelendpoint.ENDPOINT_CONFIG}),
    gpunodepool.KIND: frozenset({gpunodepool.ON_DEMAND, gpunodepool.SPOT}),
}

# Managed-resource kinds this function composes itself, beyond what P&T composed (apiVersion, kind): the
# platform activates their CRDs, installs their providers and grants the provider role their permissions
# like the kinds of the Compositions' P&T steps (aiplane.synthesis.platform.composed_bases).
COMPOSES: Mapping[str, tuple[tuple[str, str], ...]] = {
    modelendpoint.KIND: ((modelendpoint.APPAUTOSCALING, "ScheduledAction"),),
}


def run(request: Request) -> Outcome:
    kind = request.xr.get("kind")
    decide = LOGIC.get(kind) if isinstance(kind, str) else None
    if decide is None:
        return Outcome(dict(request.desired))
    return decide(request)
