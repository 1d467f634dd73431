"""AcceleratorQuota through AWS Service Quotas: observe the account's quota, request more only when short.

P&T composes two ServiceQuota objects for the quota (the code from the catalog, class × purchase → code,
through a map transform, so the codes live in one data file): `quota`, observe-only, which reports the
value the account has; and `quota-request`, the increase request for `spec.vcpus`. function-aiplane
(aiplane.function.acceleratorquota, whose docstring has the whole state machine) keeps the request only while
the account has less, files it once, and never again on its own after a denial. Neither object has Delete in
its managementPolicies: deleting the XR never lowers a quota.
"""

from __future__ import annotations

from typing import Any

from aiplane.authoring.composing import CompositionContext
from aiplane.authoring.pt import combine_from_xr, from_xr, managed_resource, map_values, string_format, to_xr
from aiplane.function.acceleratorquota import KIND, OBSERVE_ONLY, QUOTA, REQUEST

DEFAULT_VARIANT = "servicequotas"
SERVICE_CODE = "ec2"


def compositions(ctx: CompositionContext) -> list[dict[str, Any]]:
    codes = {
        f"{cls}-{purchase}": ctx.catalog.quota(cls, purchase).code
        for cls in ("p", "g", "inf", "trn")
        for purchase in ("onDemand", "spot")
    }

    def quota_code(to: str, *transforms: dict[str, Any]) -> dict[str, Any]:
        return combine_from_xr("%s-%s", ["spec.class", "spec.purchase"], to, map_values(codes), *transforms)

    def service_quota(name: str, *patches: dict[str, Any]) -> Any:
        return ctx.aws_resource(
            name,
            managed_resource(
                "servicequotas.aws.m.upbound.io/v1beta1",
                "ServiceQuota",
                {"serviceCode": SERVICE_CODE},
                management_policies=OBSERVE_ONLY,
            ),
            quota_code("spec.forProvider.quotaCode"),
            # The Terraform ID `<service>/<code>` (service_quota.go serviceQuotaCreateResourceID): the object
            # finds the account's quota instead of creating one.
            quota_code("metadata.annotations[crossplane.io/external-name]", string_format(f"{SERVICE_CODE}/%s")),
            *patches,
        )

    current = service_quota(QUOTA, to_xr("spec.forProvider.quotaCode", "status.quotaCode"))
    request = service_quota(REQUEST, from_xr("spec.vcpus", "spec.forProvider.value", required=True))
    return [ctx.composition(KIND, DEFAULT_VARIANT, [current, request])]
