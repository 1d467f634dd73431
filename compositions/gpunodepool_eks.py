"""GPUNodePool on EKS managed node groups: an IAM node role and one node group per capacity type.

One Composition for every capacity: P&T composes the role, an on-demand and a spot node group, each sized by
`scaling`; function-aiplane (aiplane.function.gpunodepool) then keeps what `capacity` asks for — on-demand,
spot, or mixed (the on-demand group pinned to `onDemandBaseSize`, the spot group bursting). So an XR applied
by hand with `capacity: spot` gets spot nodes: the spec alone decides. The function also makes each node group
a content-addressed revision replaced create-before-destroy when a ForceNew field changes, and reports the
serving revision's status in the XR (`status.onDemand`, `status.spot`).
"""

from __future__ import annotations

import json
from typing import Any

from aiplane.authoring.composing import CompositionContext
from aiplane.authoring.pt import ComposedResource, from_xr, managed_resource
from aiplane.function.gpunodepool import KIND, ON_DEMAND, SPOT

DEFAULT_VARIANT = "eks"

# Managed policies an EKS worker node role needs (AWS examples/eks/namespaced/v1beta1/nodegroup.yaml,
# upbound/configuration-aws-eks; reference crossplane.md §8).
NODE_POLICIES = {
    "worker": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "cni": "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "ecr-read": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
}
EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    },
    sort_keys=True,
)


def node_role(ctx: CompositionContext) -> list[ComposedResource]:
    role = ctx.aws_resource(
        "node-role",
        managed_resource(
            "iam.aws.m.upbound.io/v1beta1",
            "Role",
            {"assumeRolePolicy": EC2_TRUST, "tags": ctx.aws_tags()},
            labels=ctx.part_labels("node-role"),
        ),
        regional=False,
    )
    attachments = [
        ctx.aws_resource(
            f"node-role-{short}",
            managed_resource(
                "iam.aws.m.upbound.io/v1beta1",
                "RolePolicyAttachment",
                {"policyArn": arn, "roleSelector": ctx.sibling("node-role")},
            ),
            regional=False,
        )
        for short, arn in NODE_POLICIES.items()
    ]
    return [role, *attachments]


def node_group(ctx: CompositionContext, name: str, capacity_type: str) -> ComposedResource:
    """One EKS node group, sized by `scaling` (function-aiplane resizes the on-demand base of `mixed`)."""
    status_key = "onDemand" if capacity_type == "ON_DEMAND" else "spot"
    base = managed_resource(
        "eks.aws.m.upbound.io/v1beta1",
        "NodeGroup",
        {
            "capacityType": capacity_type,
            "nodeRoleArnSelector": ctx.sibling("node-role"),
            "tags": ctx.aws_tags(),
        },
        labels=ctx.part_labels(name),
    )
    size_patches = [
        from_xr("spec.scaling.minSize", "spec.forProvider.scalingConfig.minSize", required=True),
        from_xr("spec.scaling.maxSize", "spec.forProvider.scalingConfig.maxSize", required=True),
        # desiredSize only at creation (initProvider), so the cluster autoscaler owns it afterwards;
        # minSize first as the fallback, then desiredSize when the XR sets it (later patches win).
        from_xr("spec.scaling.minSize", "spec.initProvider.scalingConfig.desiredSize"),
        from_xr("spec.scaling.desiredSize", "spec.initProvider.scalingConfig.desiredSize"),
    ]
    return ctx.aws_resource(
        name,
        base,
        ctx.external_name(f"%s-%s-{status_key.lower()}", ctx.environment_name_path(), "metadata.name"),
        from_xr("spec.clusterName", "spec.forProvider.clusterName", required=True),
        from_xr("spec.instanceTypes", "spec.forProvider.instanceTypes", required=True),
        from_xr("spec.amiType", "spec.forProvider.amiType", required=True),
        from_xr("spec.diskSizeGiB", "spec.forProvider.diskSize"),
        from_xr("spec.kubernetesVersion", "spec.forProvider.version"),
        from_xr("spec.releaseVersion", "spec.forProvider.releaseVersion"),
        # Exactly one of the two is set (XRD rule): literal IDs, or the labels of observe-only Subnet objects.
        from_xr("spec.subnetIds", "spec.forProvider.subnetIds"),
        from_xr("spec.subnetSelector", "spec.forProvider.subnetIdSelector.matchLabels"),
        *size_patches,
        from_xr("spec.labels", "spec.forProvider.labels"),
        from_xr("spec.finops.costCenter", f"spec.forProvider.labels[{ctx.label('cost-center')}]"),
        from_xr(ctx.environment_name_path(), f"spec.forProvider.labels[{ctx.label('environment')}]"),
        from_xr("spec.taints", "spec.forProvider.taint"),
    )


def compositions(ctx: CompositionContext) -> list[dict[str, Any]]:
    on_demand = node_group(ctx, ON_DEMAND, "ON_DEMAND")
    spot = node_group(ctx, SPOT, "SPOT")
    return [ctx.composition(KIND, DEFAULT_VARIANT, [*node_role(ctx), on_demand, spot])]
