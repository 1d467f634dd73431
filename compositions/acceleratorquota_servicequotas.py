"""AcceleratorQuota through AWS Service Quotas: observe the account's quota, request more only when short.

P&T composes two ServiceQuota objects for the quota: `quota`, observe-only, which reports the value the
account has; and `quota-request`, the increase request for the XR's value. The quota code comes from the
catalog through map transforms (EC2: class × purchase → code; SageMaker: instance type → code), so the codes
live in one data file; each XR sets the fields of one service, and the other service's patches find nothing
and are skipped. function-aiplane (aiplane.function.acceleratorquota, whose docstring has the whole state
machine) keeps the request only while the account has less, files it once, and never again on its own after
a denial. Neither object has Delete in its managementPolicies: deleting the XR never lowers a quota.
"""

from __future__ import annotations

from typing import Any

from aiplane.authoring.composing import CompositionContext
from aiplane.authoring.pt import combine_from_xr, from_xr, managed_resource, map_values, to_xr
from aiplane.function.acceleratorquota import KIND, OBSERVE_ONLY, QUOTA, REQUEST

DEFAULT_VARIANT = "servicequotas"


def compositions(ctx: CompositionContext) -> list[dict[str, Any]]:
    ec2_codes = {
        f"{cls}-{purchase}": ctx.catalog.quota(cls, purchase).code
        for cls in ("p", "g", "inf", "trn")
        for purchase in ("onDemand", "spot")
    }
    endpoint_codes = {name: quota.code for name, quota in sorted(ctx.catalog.endpoint_quotas.items())}

    def service_quota(name: str, *patches: dict[str, Any]) -> Any:
        return ctx.aws_resource(
            name,
            managed_resource(
                "servicequotas.aws.m.upbound.io/v1beta1", "ServiceQuota", {}, management_policies=OBSERVE_ONLY
            ),
            from_xr("spec.service", "spec.forProvider.serviceCode", required=True),
            combine_from_xr(
                "%s-%s", ["spec.class", "spec.purchase"], "spec.forProvider.quotaCode", map_values(ec2_codes),
                required=False,
            ),
            from_xr("spec.instanceType", "spec.forProvider.quotaCode", map_values(endpoint_codes)),
            *patches,
        )

    current = service_quota(QUOTA, to_xr("spec.forProvider.quotaCode", "status.quotaCode"))
    request = service_quota(
        REQUEST,
        from_xr("spec.vcpus", "spec.forProvider.value"),
        from_xr("spec.instances", "spec.forProvider.value"),
    )
    return [ctx.composition(KIND, DEFAULT_VARIANT, [current, request])]
