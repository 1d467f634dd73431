"""The AWS foundation of one environment (pulumi-aws): the IAM role the Crossplane AWS provider assumes,
AWS Budgets per cost center with alerts to an SNS topic, cost-allocation tag activation and the default
KMS key for buckets. Every taggable resource carries the environment's FinOps tags.

All figures come from the same synthesis as `aiplane synth` (aiplane.stacks.environment): the provider's
permissions from the kinds the Compositions compose, the budgets from the XRs' worst-case $/h.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pulumi
import pulumi_aws as aws
from crossplane_permissions import irsa_trust, pod_identity_trust, policy_for

from aiplane.authoring.composing import COST_ALLOCATION_TAG_KEYS
from aiplane.stacks.environment import Layer, StackEnvironment, load_stack_environment

ProviderIdentity = Literal["pod-identity", "irsa"]
IDENTITIES: tuple[ProviderIdentity, ...] = ("pod-identity", "irsa")
ALERT_THRESHOLDS_PERCENT = (80, 100)


@dataclass
class FoundationStack:
    """What `deploy` registered, for tests and exports."""

    environment: StackEnvironment
    role: aws.iam.Role
    policy_document: dict[str, object]
    trust_document: dict[str, object]
    budgets: dict[str, aws.budgets.Budget] = field(default_factory=dict)
    tag_activations: list[aws.costexplorer.CostAllocationTag] = field(default_factory=list)
    associations: list[aws.eks.PodIdentityAssociation] = field(default_factory=list)


def provider_service_accounts(stack_env: StackEnvironment) -> list[str]:
    """Service accounts of the Crossplane provider pods, as the synthesized DeploymentRuntimeConfigs pin them
    (read from the objects themselves, so the IAM trust can never name another account)."""
    configs = {m.obj["metadata"]["name"]: m.obj for m in stack_env.in_layer(Layer.PACKAGES)
               if m.obj["kind"] == "DeploymentRuntimeConfig"}
    return sorted(configs[m.obj["spec"]["runtimeConfigRef"]["name"]]["spec"]["serviceAccountTemplate"]["metadata"]["name"]
                  for m in stack_env.in_layer(Layer.PACKAGES)
                  if m.obj["kind"] == "Provider" and m.obj["apiVersion"].startswith("pkg.crossplane.io/"))


def deploy(env_name: str, *, provider_identity: str = "pod-identity", oidc_provider_arn: str | None = None,
           service_accounts: list[str] | None = None, activate_cost_allocation_tags: bool = True,
           start: Path | None = None) -> FoundationStack:
    """Register the foundation of environment `env_name` in its account and region."""
    if provider_identity not in IDENTITIES:
        raise ValueError(f"aiplane:providerIdentity must be one of {', '.join(IDENTITIES)}, "
                         f"not {provider_identity!r}")
    stack_env = load_stack_environment(env_name, start or Path(__file__).resolve().parent)
    env = stack_env.env
    tags = stack_env.finops_tags()
    prefix = f"aiplane-{env.name}"
    # allowed_account_ids: credentials for another environment's account fail before any change.
    provider = aws.Provider(f"aws-{env.name}", region=env.region, allowed_account_ids=[env.accountId])
    opts = pulumi.ResourceOptions(provider=provider)

    accounts = service_accounts or provider_service_accounts(stack_env)
    if provider_identity == "irsa":
        if not oidc_provider_arn:
            raise ValueError("aiplane:providerIdentity irsa needs aiplane:oidcProviderArn "
                             "(the cluster's IAM OIDC provider)")
        trust = irsa_trust(oidc_provider_arn, accounts)
    else:
        trust = pod_identity_trust(env.clusterName, accounts)
    document = policy_for(stack_env)

    role = aws.iam.Role(
        "crossplane-provider", name=f"{prefix}-crossplane-provider",
        description=f"Assumed by the Crossplane AWS provider of {env.clusterName} ({provider_identity})",
        assume_role_policy=json.dumps(trust, sort_keys=True), tags=tags, opts=opts)
    policy = aws.iam.Policy(
        "crossplane-provider", name=f"{prefix}-crossplane-provider",
        description="What the aiplane Compositions compose, and nothing else",
        policy=json.dumps(document, sort_keys=True), tags=tags, opts=opts)
    aws.iam.RolePolicyAttachment("crossplane-provider", role=role.name, policy_arn=policy.arn, opts=opts)
    stack = FoundationStack(stack_env, role, dict(document), dict(trust))
    if provider_identity == "pod-identity":
        for sa in accounts:
            stack.associations.append(aws.eks.PodIdentityAssociation(
                f"crossplane-{sa}", cluster_name=env.clusterName, namespace="crossplane-system",
                service_account=sa, role_arn=role.arn, tags=tags, opts=opts))

    topic = aws.sns.Topic("budget-alerts", name=f"{prefix}-budget-alerts", tags=tags, opts=opts)
    # Left unencrypted on purpose: AWS Budgets cannot publish to a topic under the AWS-managed SNS key.
    aws.sns.TopicPolicy("budget-alerts", arn=topic.arn, opts=opts, policy=topic.arn.apply(
        lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "AwsBudgetsPublish", "Effect": "Allow", "Principal": {"Service": "budgets.amazonaws.com"},
            "Action": "SNS:Publish", "Resource": arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": env.accountId}}}]}, sort_keys=True)))
    for budget in stack_env.budgets():
        stack.budgets[budget.cost_center] = aws.budgets.Budget(
            f"budget-{budget.cost_center}", name=f"{prefix}-{budget.cost_center}", account_id=env.accountId,
            budget_type="COST", time_unit="MONTHLY", limit_unit="USD",
            limit_amount=f"{budget.monthly_limit_usd:.2f}",
            cost_filters=[aws.budgets.BudgetCostFilterArgs(
                name="TagKeyValue", values=[f"user:cost-center${budget.cost_center}"])],
            notifications=[aws.budgets.BudgetNotificationArgs(
                comparison_operator="GREATER_THAN", notification_type="ACTUAL", threshold=float(pct),
                threshold_type="PERCENTAGE", subscriber_sns_topic_arns=[topic.arn])
                for pct in ALERT_THRESHOLDS_PERCENT],
            tags=tags, opts=opts)

    if activate_cost_allocation_tags:
        # Only the payer (management) account can activate tags, and only keys already seen in billing data.
        stack.tag_activations = [aws.costexplorer.CostAllocationTag(
            f"cost-allocation-{key}", tag_key=key, status="Active", opts=opts) for key in COST_ALLOCATION_TAG_KEYS]

    key = aws.kms.Key(
        "buckets", description=f"Default key of the aiplane {env.name} model buckets",
        enable_key_rotation=True, deletion_window_in_days=30, tags=tags, opts=opts)
    alias = aws.kms.Alias("buckets", name=f"alias/{prefix}-buckets", target_key_id=key.key_id, opts=opts)

    pulumi.export("environment", env.name)
    pulumi.export("providerIdentity", provider_identity)
    pulumi.export("crossplaneProviderRoleArn", role.arn)
    pulumi.export("budgetAlertTopicArn", topic.arn)
    pulumi.export("monthlyBudgetsUsd", {b.cost_center: b.monthly_limit_usd for b in stack_env.budgets()})
    pulumi.export("bucketKeyArn", key.arn)
    pulumi.export("bucketKeyAlias", alias.name)
    return stack
