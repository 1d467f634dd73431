"""The IAM the Crossplane AWS provider needs, derived from what the Compositions compose.

One table (MR_PERMISSIONS) says which API calls the upjet provider makes to create, observe, update,
tag and delete each managed-resource kind; the policy document is built from the kinds the synthesized
Compositions actually compose, so a service no Composition uses gets no permission, and a composed kind
missing from the table stops the stack instead of deploying a role that fails at reconcile time.
No statement grants `*` or `<service>:*`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiplane.stacks.environment import StackEnvironment, composed_aws_kinds

# IAM is global: its API is only reachable through us-east-1, whatever the resources' region.
GLOBAL_SERVICES = frozenset({"iam"})
# Managed policy documents may hold at most 6,144 characters (whitespace not counted).
MANAGED_POLICY_MAX_CHARS = 6144
PROVIDER_NAMESPACE = "crossplane-system"

_TAGGING = {
    "eks": ("eks:TagResource", "eks:UntagResource", "eks:ListTagsForResource"),
    "kms": ("kms:TagResource", "kms:UntagResource", "kms:ListResourceTags"),
    "sagemaker": ("sagemaker:AddTags", "sagemaker:DeleteTags", "sagemaker:ListTags"),
    "cloudwatch": ("cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource"),
}


@dataclass(frozen=True)
class MRPermissions:
    """What managing one MR kind takes: API actions, roles it hands to a service, service-linked roles."""

    actions: tuple[str, ...]
    passes_role_to: tuple[str, ...] = ()
    service_linked_roles: tuple[str, ...] = ()


class MissingPermissions(LookupError):
    """A Composition composes an AWS kind that MR_PERMISSIONS does not cover."""


# (provider service, MR kind) → permissions. Action lists follow the calls the Terraform AWS provider
# (which upjet wraps) makes for the resource's create/read/update/delete, including the reads it does
# on every observe (an s3 Bucket refresh reads each bucket sub-configuration).
MR_PERMISSIONS: dict[tuple[str, str], MRPermissions] = {
    # Observe-only (managementPolicies ["Observe"]): the provider only refreshes it, which the Terraform
    # aws_subnet resource does with DescribeSubnets (its tags come back in the same answer).
    ("ec2", "Subnet"): MRPermissions(("ec2:DescribeSubnets",)),
    ("eks", "NodeGroup"): MRPermissions(
        ("eks:CreateNodegroup", "eks:DescribeNodegroup", "eks:ListNodegroups", "eks:UpdateNodegroupConfig",
         "eks:UpdateNodegroupVersion", "eks:DescribeUpdate", "eks:DeleteNodegroup", "eks:DescribeCluster",
         *_TAGGING["eks"]),
        passes_role_to=("eks.amazonaws.com",),
        service_linked_roles=("eks-nodegroup.amazonaws.com",),
    ),
    # The ethics monitor's binding: EKS checks that the caller may pass the role to Pod Identity (EKS User
    # Guide, "Assign an IAM role to a Kubernetes service account": iam:PassRole; iam:GetRole comes with Role).
    ("eks", "PodIdentityAssociation"): MRPermissions(
        ("eks:CreatePodIdentityAssociation", "eks:DescribePodIdentityAssociation",
         "eks:UpdatePodIdentityAssociation", "eks:DeletePodIdentityAssociation", "eks:ListPodIdentityAssociations",
         *_TAGGING["eks"]),
        passes_role_to=("pods.eks.amazonaws.com",),
    ),
    ("iam", "Role"): MRPermissions(
        ("iam:CreateRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole",
         "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags", "iam:ListAttachedRolePolicies",
         "iam:ListInstanceProfilesForRole", "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy",
         "iam:ListRolePolicies"),
    ),
    ("iam", "RolePolicyAttachment"): MRPermissions(
        ("iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies"),
    ),
    ("kms", "Key"): MRPermissions(
        ("kms:CreateKey", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus",
         "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:EnableKey", "kms:DisableKey",
         "kms:UpdateKeyDescription", "kms:ScheduleKeyDeletion", *_TAGGING["kms"]),
    ),
    ("s3", "Bucket"): MRPermissions(
        ("s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketTagging",
         "s3:PutBucketTagging", "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketCORS",
         "s3:GetBucketWebsite", "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration",
         "s3:GetBucketRequestPayment", "s3:GetBucketLogging", "s3:GetLifecycleConfiguration",
         "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration", "s3:GetBucketObjectLockConfiguration",
         "s3:GetBucketOwnershipControls"),
    ),
    ("s3", "BucketServerSideEncryptionConfiguration"): MRPermissions(
        ("s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"),
    ),
    ("s3", "BucketPublicAccessBlock"): MRPermissions(
        # DeletePublicAccessBlock is authorised by s3:PutBucketPublicAccessBlock.
        ("s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    ),
    ("s3", "BucketVersioning"): MRPermissions(("s3:PutBucketVersioning", "s3:GetBucketVersioning")),
    ("s3", "BucketLifecycleConfiguration"): MRPermissions(
        # DeleteBucketLifecycle is authorised by s3:PutLifecycleConfiguration.
        ("s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
    ),
    ("sagemaker", "Model"): MRPermissions(
        ("sagemaker:CreateModel", "sagemaker:DescribeModel", "sagemaker:DeleteModel", *_TAGGING["sagemaker"]),
        passes_role_to=("sagemaker.amazonaws.com",),
    ),
    ("sagemaker", "EndpointConfiguration"): MRPermissions(
        ("sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig", "sagemaker:DeleteEndpointConfig",
         *_TAGGING["sagemaker"]),
    ),
    ("sagemaker", "Endpoint"): MRPermissions(
        ("sagemaker:CreateEndpoint", "sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint",
         "sagemaker:DeleteEndpoint", *_TAGGING["sagemaker"]),
    ),
    ("cloudwatch", "MetricAlarm"): MRPermissions(
        ("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms",
         *_TAGGING["cloudwatch"]),
    ),
    ("cloudwatch", "CompositeAlarm"): MRPermissions(
        ("cloudwatch:PutCompositeAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms",
         *_TAGGING["cloudwatch"]),
    ),
    # Application Auto Scaling of SageMaker variants (Amazon SageMaker AI Developer Guide, "Auto scaling
    # prerequisites": the caller also needs to describe the endpoint and its configuration and to update the
    # variant's capacity; the first registration creates the service-linked role
    # AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint, which then does the scaling).
    ("appautoscaling", "Target"): MRPermissions(
        ("application-autoscaling:RegisterScalableTarget", "application-autoscaling:DescribeScalableTargets",
         "application-autoscaling:DeregisterScalableTarget", "application-autoscaling:TagResource",
         "application-autoscaling:UntagResource", "application-autoscaling:ListTagsForResource",
         "sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig",
         "sagemaker:UpdateEndpointWeightsAndCapacities"),
        service_linked_roles=("sagemaker.application-autoscaling.amazonaws.com",),
    ),
    # Target tracking: Application Auto Scaling creates and deletes the policy's CloudWatch alarms with the
    # caller's permissions checked (Application Auto Scaling User Guide, identity-based policy examples).
    ("appautoscaling", "Policy"): MRPermissions(
        ("application-autoscaling:PutScalingPolicy", "application-autoscaling:DescribeScalingPolicies",
         "application-autoscaling:DeleteScalingPolicy", "cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms",
         "cloudwatch:DeleteAlarms"),
    ),
    ("appautoscaling", "ScheduledAction"): MRPermissions(
        ("application-autoscaling:PutScheduledAction", "application-autoscaling:DescribeScheduledActions",
         "application-autoscaling:DeleteScheduledAction"),
    ),
    ("servicequotas", "ServiceQuota"): MRPermissions(
        ("servicequotas:GetServiceQuota", "servicequotas:GetAWSDefaultServiceQuota",
         "servicequotas:RequestServiceQuotaIncrease", "servicequotas:GetRequestedServiceQuotaChange",
         "servicequotas:ListRequestedServiceQuotaChangeHistoryByQuota"),
    ),
}


def _resources(service: str, account: str) -> list[str]:
    """Resource scope per service where the ARN pattern is known and every action supports it."""
    if service == "iam":
        return [f"arn:aws:iam::{account}:role/*"]
    if service == "s3":
        return ["arn:aws:s3:::*"]
    # CreateKey, CreateNodegroup's cluster lookups, PutMetricAlarm, quota requests: resource-level
    # permissions vary per action there, so these statements are bounded by region instead.
    return ["*"]


def composed_kinds(bases_by_service: Mapping[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    return {svc: sorted({str(b["kind"]) for b in bases}) for svc, bases in bases_by_service.items()}


def _attached_policy_arns(bases_by_service: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """The managed policies RolePolicyAttachments attach; they must be literal in the Composition."""
    arns: set[str] = set()
    for base in bases_by_service.get("iam", []):
        if base.get("kind") != "RolePolicyAttachment":
            continue
        arn = base.get("spec", {}).get("forProvider", {}).get("policyArn")
        if not isinstance(arn, str):
            raise MissingPermissions("a composed RolePolicyAttachment patches its policyArn; the provider role "
                                     "can only be limited to attaching policies named in the Composition")
        arns.add(arn)
    return sorted(arns)


def provider_policy(account: str, regions: Iterable[str],
                    bases_by_service: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """IAM policy document for the Crossplane provider role: one statement per composed service."""
    kinds = composed_kinds(bases_by_service)
    missing = [f"{svc}.aws.m.upbound.io {kind}" for svc, ks in kinds.items() for kind in ks
               if (svc, kind) not in MR_PERMISSIONS]
    if missing:
        raise MissingPermissions(f"no IAM permissions declared for composed kind(s): {', '.join(missing)}; "
                                 "add them to MR_PERMISSIONS in stacks/aws-foundation/crossplane_permissions.py")
    region_list = sorted(set(regions))
    statements: list[dict[str, Any]] = []
    passed_to: set[str] = set()
    linked: set[str] = set()
    attach_arns = _attached_policy_arns(bases_by_service)
    for svc, ks in kinds.items():
        perms = [MR_PERMISSIONS[(svc, k)] for k in ks]
        actions = sorted({a for p in perms for a in p.actions})
        attach = {"iam:AttachRolePolicy", "iam:DetachRolePolicy"}
        plain = [a for a in actions if a not in attach]
        statement: dict[str, Any] = {"Sid": f"Crossplane{svc.capitalize()}", "Effect": "Allow",
                                     "Action": plain, "Resource": _resources(svc, account)}
        if svc not in GLOBAL_SERVICES:
            statement["Condition"] = {"StringEquals": {"aws:RequestedRegion": region_list}}
        statements.append(statement)
        if attach & set(actions):
            statements.append({
                "Sid": "CrossplaneIamAttachComposedPolicies", "Effect": "Allow",
                "Action": sorted(attach & set(actions)), "Resource": _resources("iam", account),
                "Condition": {"ArnEquals": {"iam:PolicyARN": attach_arns}}})
        for p in perms:
            passed_to.update(p.passes_role_to)
            linked.update(p.service_linked_roles)
    if passed_to:
        statements.append({
            "Sid": "CrossplanePassComposedRoles", "Effect": "Allow", "Action": ["iam:PassRole"],
            "Resource": [f"arn:aws:iam::{account}:role/*"],
            "Condition": {"StringEquals": {"iam:PassedToService": sorted(passed_to)}}})
    if linked:
        statements.append({
            "Sid": "CrossplaneServiceLinkedRoles", "Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole"],
            "Resource": [f"arn:aws:iam::{account}:role/aws-service-role/*"],
            "Condition": {"StringEquals": {"iam:AWSServiceName": sorted(linked)}}})
    return {"Version": "2012-10-17", "Statement": statements}


def policy_for(stack_env: StackEnvironment) -> dict[str, Any]:
    """The provider policy of one environment: its account, the regions of its XRs, the platform's kinds."""
    regions = {item.spec.region for item in stack_env.environment.items} | {stack_env.env.region}
    return provider_policy(stack_env.env.accountId, regions, composed_aws_kinds(stack_env.manifests))


def policy_size(document: Mapping[str, Any]) -> int:
    """Characters IAM counts against the managed-policy quota (JSON without whitespace)."""
    return len(json.dumps(document, separators=(",", ":")))


def pod_identity_trust(cluster_name: str, service_accounts: Iterable[str],
                       namespace: str = PROVIDER_NAMESPACE) -> dict[str, Any]:
    """Trust for EKS Pod Identity, limited by the session tags EKS sets to the provider's pods."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "EksPodIdentityCrossplaneProvider", "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {"StringEquals": {
            "aws:RequestTag/eks-cluster-name": cluster_name,
            "aws:RequestTag/kubernetes-namespace": namespace,
            "aws:RequestTag/kubernetes-service-account": sorted(service_accounts),
        }},
    }]}


def irsa_trust(oidc_provider_arn: str, service_accounts: Iterable[str],
               namespace: str = PROVIDER_NAMESPACE) -> dict[str, Any]:
    """Trust for IAM roles for service accounts: the cluster's OIDC provider, the provider's accounts."""
    marker = ":oidc-provider/"
    if marker not in oidc_provider_arn or not oidc_provider_arn.startswith("arn:aws"):
        raise ValueError(f"not an IAM OIDC provider ARN: {oidc_provider_arn!r} "
                         "(expected arn:aws:iam::<account>:oidc-provider/<issuer host and path>)")
    issuer = oidc_provider_arn.split(marker, 1)[1]
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "IrsaCrossplaneProvider", "Effect": "Allow",
        "Principal": {"Federated": oidc_provider_arn},
        "Action": ["sts:AssumeRoleWithWebIdentity"],
        "Condition": {"StringEquals": {
            f"{issuer}:aud": "sts.amazonaws.com",
            f"{issuer}:sub": [f"system:serviceaccount:{namespace}:{sa}" for sa in sorted(service_accounts)],
        }},
    }]}
