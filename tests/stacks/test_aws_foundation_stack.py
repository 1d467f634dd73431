"""stacks/aws-foundation under Pulumi's mock runtime: the provider role and its trust, the
least-privilege policy, budgets per cost center, cost-allocation tags, the bucket key, and FinOps tags."""

from __future__ import annotations

import json
import runpy
from collections import defaultdict
from typing import Any

import pulumi
import pytest
import yaml
from crossplane_permissions import (
    MANAGED_POLICY_MAX_CHARS,
    MR_PERMISSIONS,
    MissingPermissions,
    policy_size,
    provider_policy,
)
from foundation_stack import deploy
from harness import Run, aws_resources, run_program
from shipped import ENVIRONMENTS, ROOT, SETTINGS

from aiplane.authoring.composing import FINOPS_TAG_KEYS
from aiplane.policy import default_context, load_policy_config, run_rules
from aiplane.stacks.environment import HOURS_PER_MONTH, stack_tags

STACK_DIR = ROOT / "stacks" / "aws-foundation"
# ec2: the environments' observe-only Subnets, which the NodeGroups' subnetIdSelector resolves.
COMPOSED_SERVICES = {"ec2", "eks", "iam", "s3", "kms", "sagemaker", "cloudwatch", "servicequotas", "appautoscaling"}
# Provider services whose IAM action prefix is another name.
IAM_PREFIX = {"appautoscaling": "application-autoscaling"}
# Types AWS gives no tags to (attachments, policies of other resources, account settings, aliases).
UNTAGGABLE = {"aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:sns/topicPolicy:TopicPolicy",
              "aws:costexplorer/costAllocationTag:CostAllocationTag", "aws:kms/alias:Alias"}


def _run(env: str, **kwargs: Any) -> Run:
    return run_program(lambda: deploy(env, **kwargs), project="aiplane-aws-foundation", stack=env)


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env_run(request: pytest.FixtureRequest) -> tuple[str, Run]:
    return request.param, _run(request.param)


def _env(env: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SETTINGS.environments / f"{env}.yaml").read_text())
    return data


def _xrs_from_manifests(env: str) -> list[dict[str, Any]]:
    folder = SETTINGS.manifests / "environments" / env
    if not folder.is_dir():
        pytest.fail(f"{folder} is missing: run `aiplane synth` first (make test does)")
    objs = [yaml.safe_load(p.read_text()) for p in sorted(folder.glob("*.yaml")) if p.name != "kustomization.yaml"]
    return [o for o in objs if o["apiVersion"].startswith(f"{SETTINGS.group}/")]


def test_every_taggable_resource_carries_the_environment_finops_tags(env_run: tuple[str, Run]) -> None:
    env, run = env_run
    declared = _env(env)["finops"]
    expected = {"cost-center": declared["costCenter"], "owner": declared["owner"], "environment": env,
                "tier": "production", "managed-by": "aiplane"}
    assert set(expected) == set(FINOPS_TAG_KEYS) - {"xr-name"}
    aws_regs = [r for r in run.registrations if r.type.startswith("aws:")]
    untagged = {r.type for r in aws_regs if "tags" not in r.inputs}
    assert untagged == UNTAGGABLE
    for reg in aws_regs:
        if reg.type not in UNTAGGABLE:
            assert reg.inputs["tags"] == expected, reg.name


def test_aws_provider_is_pinned_to_the_environment_account_and_region(env_run: tuple[str, Run]) -> None:
    env, run = env_run
    [provider] = run.of_type("pulumi:providers:aws")
    declared = _env(env)
    assert json.loads(provider.inputs["allowedAccountIds"]) == [declared["accountId"]]
    assert provider.inputs["region"] == declared["region"]
    assert all(f"::{provider.name}::" in r.provider for r in run.registrations if r.type.startswith("aws:"))


def test_budgets_split_the_environment_budget_by_cost_center_worst_case(env_run: tuple[str, Run]) -> None:
    env, run = env_run
    monthly = _env(env)["finops"]["budgetPerHour"] * HOURS_PER_MONTH
    # Independent expectation: the worst-case $/h annotated on the XRs Flux applies, per cost-center label.
    worst: dict[str, float] = defaultdict(float)
    for xr in _xrs_from_manifests(env):
        annotation = xr["metadata"].get("annotations", {}).get("aiplane.io/worst-case-usd-per-hour")
        if annotation:
            worst[xr["metadata"]["labels"]["aiplane.io/cost-center"]] += float(annotation)
    total = sum(worst.values())
    # Each annotation is rounded to the cent; allow that much drift in every cost center's share.
    xrs = len(_xrs_from_manifests(env))
    tolerance = monthly * 0.005 * xrs / total * 2
    budgets = {b.inputs["name"]: b.inputs for b in run.of_type("aws:budgets/budget:Budget")}
    assert sorted(budgets) == sorted(f"aiplane-{env}-{cc}" for cc in worst)
    for cc, cc_worst in worst.items():
        b = budgets[f"aiplane-{env}-{cc}"]
        assert float(b["limitAmount"]) == pytest.approx(monthly * cc_worst / total, abs=tolerance)
        assert (b["budgetType"], b["timeUnit"], b["limitUnit"]) == ("COST", "MONTHLY", "USD")
        assert b["accountId"] == _env(env)["accountId"]
        assert b["costFilters"] == [{"name": "TagKeyValue", "values": [f"user:cost-center${cc}"]}]
    assert sum(float(b["limitAmount"]) for b in budgets.values()) == pytest.approx(monthly, abs=0.01 * len(budgets))


def test_budgets_alert_at_80_and_100_percent_to_the_stack_sns_topic(env_run: tuple[str, Run]) -> None:
    env, run = env_run
    [topic] = run.of_type("aws:sns/topic:Topic")
    topic_arn = f"arn:aws:mock::123456789012:sns/topic/{topic.name}"
    for budget in run.of_type("aws:budgets/budget:Budget"):
        alerts = sorted(budget.inputs["notifications"], key=lambda n: n["threshold"])
        assert [(n["threshold"], n["notificationType"], n["comparisonOperator"], n["thresholdType"])
                for n in alerts] == [(80.0, "ACTUAL", "GREATER_THAN", "PERCENTAGE"),
                                     (100.0, "ACTUAL", "GREATER_THAN", "PERCENTAGE")]
        assert all(n["subscriberSnsTopicArns"] == [topic_arn] for n in alerts)
    [topic_policy] = run.of_type("aws:sns/topicPolicy:TopicPolicy")
    [statement] = json.loads(topic_policy.inputs["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert statement["Resource"] == topic_arn
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == _env(env)["accountId"]


def test_prod_budgets_cover_the_three_cost_centers_of_its_workloads() -> None:
    run = _run("prod")
    names = sorted(b.inputs["name"] for b in run.of_type("aws:budgets/budget:Budget"))
    assert names == ["aiplane-prod-llm-serving", "aiplane-prod-ml-products", "aiplane-prod-risk"]


def test_cost_allocation_tags_activated_for_the_finops_keys(env_run: tuple[str, Run]) -> None:
    _, run = env_run
    activations = {r.inputs["tagKey"]: r.inputs["status"]
                   for r in run.of_type("aws:costexplorer/costAllocationTag:CostAllocationTag")}
    assert activations == {"cost-center": "Active", "owner": "Active", "environment": "Active", "tier": "Active"}


def test_member_accounts_can_leave_tag_activation_to_the_payer_account() -> None:
    run = _run("dev", activate_cost_allocation_tags=False)
    assert run.of_type("aws:costexplorer/costAllocationTag:CostAllocationTag") == []
    assert run.of_type("aws:budgets/budget:Budget") != []


def test_bucket_key_rotates_and_has_the_environment_alias(env_run: tuple[str, Run]) -> None:
    env, run = env_run
    [key] = run.of_type("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    [alias] = run.of_type("aws:kms/alias:Alias")
    assert alias.inputs["name"] == f"alias/aiplane-{env}-buckets"
    assert alias.inputs["targetKeyId"] == f"key-{key.name}"
    assert key.urn in alias.dependencies
    assert run.outputs["bucketKeyAlias"] == f"alias/aiplane-{env}-buckets"


def _package_objects() -> list[dict[str, Any]]:
    folder = SETTINGS.manifests / "platform" / "packages"
    return [yaml.safe_load(p.read_text()) for p in sorted(folder.glob("*.yaml")) if p.name != "kustomization.yaml"]


def _provider_packages() -> list[str]:
    return sorted(o["metadata"]["name"] for o in _package_objects() if o["kind"] == "Provider")


def _provider_pod_service_accounts() -> list[str]:
    """What Crossplane will name each provider's pod service account, read from manifests/: the
    DeploymentRuntimeConfig its runtimeConfigRef names pins it (without one it is `<revision>`, which changes
    on every upgrade)."""
    objs = _package_objects()
    configs = {o["metadata"]["name"]: o for o in objs if o["kind"] == "DeploymentRuntimeConfig"}
    accounts = []
    for provider in (o for o in objs if o["kind"] == "Provider"):
        ref = provider["spec"]["runtimeConfigRef"]
        assert (ref["apiVersion"], ref["kind"]) == ("pkg.crossplane.io/v1beta1", "DeploymentRuntimeConfig")
        accounts.append(configs[ref["name"]]["spec"]["serviceAccountTemplate"]["metadata"]["name"])
    return sorted(accounts)


def test_every_provider_runs_under_a_fixed_service_account_name() -> None:
    accounts = _provider_pod_service_accounts()
    assert len(accounts) == len(set(accounts)) == len(_provider_packages())


def test_pod_identity_trust_and_one_association_per_provider_service_account(env_run: tuple[str, Run]) -> None:
    env, run = env_run
    [role] = run.of_type("aws:iam/role:Role")
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    accounts = _provider_pod_service_accounts()
    condition = statement["Condition"]["StringEquals"]
    assert condition["aws:RequestTag/kubernetes-namespace"] == "crossplane-system"
    assert condition["aws:RequestTag/kubernetes-service-account"] == accounts
    assert condition["aws:RequestTag/eks-cluster-name"] == _env(env)["clusterName"]
    associations = run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert sorted(a.inputs["serviceAccount"] for a in associations) == accounts
    for a in associations:
        assert a.inputs["clusterName"] == _env(env)["clusterName"]
        assert a.inputs["namespace"] == "crossplane-system"
        assert a.inputs["roleArn"] == f"arn:aws:mock::123456789012:iam/role/{role.name}"
        assert role.urn in a.dependencies


def test_irsa_trusts_the_cluster_oidc_provider_and_creates_no_association() -> None:
    arn = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123"
    run = _run("dev", provider_identity="irsa", oidc_provider_arn=arn)
    [role] = run.of_type("aws:iam/role:Role")
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": arn}
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    issuer = "oidc.eks.us-east-1.amazonaws.com/id/ABC123"
    condition = statement["Condition"]["StringEquals"]
    assert condition[f"{issuer}:aud"] == "sts.amazonaws.com"
    assert condition[f"{issuer}:sub"] == [f"system:serviceaccount:crossplane-system:{sa}"
                                          for sa in _provider_pod_service_accounts()]
    assert run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation") == []
    assert run.outputs["providerIdentity"] == "irsa"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"provider_identity": "irsa"}, "oidcProviderArn"),
    ({"provider_identity": "irsa", "oidc_provider_arn": "oidc.eks.amazonaws.com/id/X"}, "not an IAM OIDC"),
    ({"provider_identity": "static-keys"}, "pod-identity, irsa"),
])
def test_identity_configuration_mistakes_stop_the_program(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _run("dev", **kwargs)


def _policy(run: Run) -> dict[str, Any]:
    [policy] = run.of_type("aws:iam/policy:Policy")
    document: dict[str, Any] = json.loads(policy.inputs["policy"])
    return document


def test_provider_policy_covers_exactly_the_services_the_compositions_compose(env_run: tuple[str, Run]) -> None:
    _, run = env_run
    document = _policy(run)
    services = {a.split(":")[0] for st in document["Statement"] for a in st["Action"]}
    assert services == {IAM_PREFIX.get(s, s) for s in COMPOSED_SERVICES}
    # ... which are the provider family members the platform installs.
    assert {p.removeprefix("crossplane-contrib-provider-aws-") for p in _provider_packages()} == COMPOSED_SERVICES


def test_provider_policy_has_no_wildcard_action_and_fits_a_managed_policy(env_run: tuple[str, Run]) -> None:
    _, run = env_run
    document = _policy(run)
    for st in document["Statement"]:
        assert st["Effect"] == "Allow"
        for action in st["Action"]:
            assert action != "*" and not action.endswith(":*"), action
    assert policy_size(document) < MANAGED_POLICY_MAX_CHARS


def test_provider_policy_scopes_iam_to_the_account_and_regional_services_to_the_xr_regions(
        env_run: tuple[str, Run]) -> None:
    env, run = env_run
    account = _env(env)["accountId"]
    by_sid = {st["Sid"]: st for st in _policy(run)["Statement"]}
    assert by_sid["CrossplaneIam"]["Resource"] == [f"arn:aws:iam::{account}:role/*"]
    assert by_sid["CrossplanePassComposedRoles"]["Condition"]["StringEquals"]["iam:PassedToService"] == \
        ["eks.amazonaws.com", "pods.eks.amazonaws.com", "sagemaker.amazonaws.com"]
    assert by_sid["CrossplaneIamAttachComposedPolicies"]["Condition"]["ArnEquals"]["iam:PolicyARN"] == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    ]
    for sid in ("CrossplaneEks", "CrossplaneS3", "CrossplaneSagemaker", "CrossplaneKms"):
        assert by_sid[sid]["Condition"]["StringEquals"]["aws:RequestedRegion"] == [_env(env)["region"]]


def test_a_composed_kind_without_declared_permissions_stops_the_stack() -> None:
    bases = {"ec2": [{"apiVersion": "ec2.aws.m.upbound.io/v1beta1", "kind": "Instance"}]}
    with pytest.raises(MissingPermissions, match=r"ec2\.aws\.m\.upbound\.io Instance"):
        provider_policy("111122223333", ["us-east-1"], bases)


def test_a_service_no_composition_uses_gets_no_permission() -> None:
    bases = {"s3": [{"apiVersion": "s3.aws.m.upbound.io/v1beta1", "kind": "Bucket"}]}
    document = provider_policy("111122223333", ["us-east-1"], bases)
    actions = {a for st in document["Statement"] for a in st["Action"]}
    assert actions == set(MR_PERMISSIONS[("s3", "Bucket")].actions)


def test_shipped_environments_pass_the_policy_pack_rules(env_run: tuple[str, Run]) -> None:
    _, run = env_run
    violations = run_rules(aws_resources(run), default_context(SETTINGS), load_policy_config(SETTINGS))
    assert [v for v in violations if v.blocking] == []


def _strip_budget_tags(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    if args.type_ != "aws:budgets/budget:Budget":
        return None
    return pulumi.ResourceTransformationResult({k: v for k, v in args.props.items() if k != "tags"}, args.opts)


def test_a_budget_without_finops_tags_fails_finops_required_tags() -> None:
    def program() -> None:
        pulumi.runtime.register_stack_transformation(_strip_budget_tags)
        deploy("staging")

    run = run_program(program, project="aiplane-aws-foundation", stack="staging")
    budgets = run.of_type("aws:budgets/budget:Budget")
    assert budgets and all("tags" not in b.inputs for b in budgets)
    violations = run_rules(aws_resources(run), default_context(SETTINGS), load_policy_config(SETTINGS))
    blocking = {(v.rule, v.name) for v in violations if v.blocking}
    assert blocking == {("finops-required-tags", b.name) for b in budgets}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_stack_config_names_the_environment_and_carries_its_finops_stack_tags(env: str) -> None:
    from aiplane.synthesis.discovery import discover
    from aiplane.synthesis.environment import load_environments
    config = yaml.safe_load((STACK_DIR / f"Pulumi.{env}.yaml").read_text())["config"]
    [loaded] = [e.settings for e in load_environments(SETTINGS.environments, discover(SETTINGS), [env])]
    assert config["aiplane:environment"] == env
    assert config["aiplane:providerIdentity"] in ("pod-identity", "irsa")
    assert config["pulumi:tags"] == stack_tags(loaded)


def test_main_program_reads_the_stack_config() -> None:
    arn = "arn:aws:iam::777788889999:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/PROD"
    run = run_program(lambda: runpy.run_path(str(STACK_DIR / "__main__.py"), run_name="__main__"),
                      project="aiplane-aws-foundation", stack="prod",
                      config={"aiplane:environment": "prod", "aiplane:providerIdentity": "irsa",
                              "aiplane:oidcProviderArn": arn, "aiplane:activateCostAllocationTags": "false",
                              "aiplane:providerServiceAccounts": json.dumps(["provider-aws"])})
    [role] = run.of_type("aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Federated": arn}
    assert list(trust["Condition"]["StringEquals"].values())[1] == ["system:serviceaccount:crossplane-system:provider-aws"]
    assert run.of_type("aws:costexplorer/costAllocationTag:CostAllocationTag") == []
    assert run.outputs["environment"] == "prod"


def test_foundation_program_also_runs_in_preview() -> None:
    run = run_program(lambda: deploy("prod"), project="aiplane-aws-foundation", stack="prod", preview=True)
    assert len(run.of_type("aws:budgets/budget:Budget")) == 3
