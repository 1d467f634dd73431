"""endpoint-quota-unmanaged (advisory): an endpoint whose instance type has no SageMaker "for endpoint usage"
quota code confirmed from a cited source. aiplane never composes a quota it cannot name for sure, so nobody
checks that the account may run this many instances of the type: the first apply may fail with
ResourceLimitExceeded. The catalog (sagemaker-endpoint-quotas.yaml) lists the confirmed codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiplane.policy.context import Manifest, RuleContext
from aiplane.policy.model import Finding, Rule


def check(obj: Manifest, ctx: RuleContext) -> Iterator[Finding]:
    if ctx.api_of(obj) is None:
        return
    spec: Any = ctx.spec_of(obj)  # a ModelEndpoint's (kinds below)
    instance_type = str(spec.instanceType)
    if ctx.catalog.endpoint_quota(instance_type) is not None:
        return
    yield Finding(
        obj,
        f"the account's '{instance_type} for endpoint usage' quota is unmanaged (no quota code confirmed "
        f"from a cited source): {spec.instanceCount} instance(s) may exceed it",
        "spec.instanceType",
        fix="check the quota in the Service Quotas console (service sagemaker), or add its code with a "
        "source to the catalog",
    )


RULE = Rule(
    id="endpoint-quota-unmanaged",
    title="Endpoints whose SageMaker instance quota aiplane cannot manage",
    severity="low",
    enforcement="advisory",
    kinds=("ModelEndpoint",),
    fix="check the quota by hand, or add its confirmed code to the catalog",
    check=check,
)
