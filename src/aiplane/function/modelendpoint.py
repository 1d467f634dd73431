"""ModelEndpoint: `ethicsMonitor.action` decides whether SageMaker rolls deployments back.

P&T composes the Endpoint with a blue/green deployment configuration whose auto-rollback watches the
fairness alarm. Only `rollback` keeps it; `alert` and `block-promotion` compose the Endpoint without one.
"""

from __future__ import annotations

from aiplane.function.model import Outcome, Request, get

KIND = "ModelEndpoint"
ENDPOINT = "endpoint"
ROLLBACK = "rollback"


def decide(request: Request) -> Outcome:
    desired = dict(request.desired)
    action = get(request.spec, "ethicsMonitor", "action") or "alert"
    endpoint = desired.get(ENDPOINT)
    if action != ROLLBACK and endpoint is not None:
        for_provider = get(endpoint, "spec", "forProvider")
        if isinstance(for_provider, dict):
            for_provider.pop("deploymentConfig", None)
    return Outcome(desired)
