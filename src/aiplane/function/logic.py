"""Which logic serves which XR kind; a kind with none passes through unchanged (an API a team added
whose Composition lists this step does not break)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aiplane.function import acceleratorquota, gpunodepool, modelbucket, modelendpoint
from aiplane.function.model import Outcome, Request

LOGIC: Mapping[str, Callable[[Request], Outcome]] = {
    module.KIND: module.decide for module in (acceleratorquota, gpunodepool, modelbucket, modelendpoint)
}


def run(request: Request) -> Outcome:
    kind = request.xr.get("kind")
    decide = LOGIC.get(kind) if isinstance(kind, str) else None
    if decide is None:
        return Outcome(dict(request.desired))
    return decide(request)
