"""AcceleratorQuota through AWS Service Quotas: one ServiceQuota increase request per XR.

The quota code comes from the catalog (class × purchase → code) through a P&T map transform, so the
codes live in one data file. managementPolicies omit Delete: deleting the XR never lowers a granted quota.
"""

from __future__ import annotations

from typing import Any

from aiplane.authoring.composing import CompositionContext
from aiplane.authoring.pt import KEEP_ON_DELETE, combine_from_xr, from_xr, managed_resource, map_values, to_xr

KIND = "AcceleratorQuota"
DEFAULT_VARIANT = "servicequotas"


def compositions(ctx: CompositionContext) -> list[dict[str, Any]]:
    codes = {
        f"{cls}-{purchase}": ctx.catalog.quota(cls, purchase).code
        for cls in ("p", "g", "inf", "trn")
        for purchase in ("onDemand", "spot")
    }
    quota = ctx.aws_resource(
        "service-quota",
        managed_resource(
            "servicequotas.aws.m.upbound.io/v1beta1",
            "ServiceQuota",
            {"serviceCode": "ec2"},
            management_policies=KEEP_ON_DELETE,
        ),
        combine_from_xr(
            "%s-%s", ["spec.class", "spec.purchase"], "spec.forProvider.quotaCode", map_values(codes)
        ),
        from_xr("spec.vcpus", "spec.forProvider.value", required=True),
        to_xr("spec.forProvider.quotaCode", "status.quotaCode"),
        to_xr("status.atProvider.value", "status.value"),
        to_xr("status.atProvider.requestStatus", "status.requestStatus"),
    )
    return [ctx.composition(KIND, DEFAULT_VARIANT, [quota])]
