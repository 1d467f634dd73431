#!/usr/bin/env python3
"""Build src/aiplane/data/forcenew.yaml: the fields that force replacement of every managed-resource kind
our Compositions use, mapped from Terraform attribute paths to the upjet CRD paths.

Two sources of Terraform facts:

* ``--tf-checkout PATH`` (a local checkout of hashicorp/terraform-provider-aws, or of the upbound fork that
  provider-upjet-aws builds against): the resource files are parsed with a small Go-literal scanner.
  SDKv2 schemas (``ForceNew: true``, nested ``Elem: &schema.Resource{Schema: ...}``) and Plugin Framework
  schemas (``PlanModifiers`` holding ``RequiresReplace()``; ``RequiresReplaceIf...`` is conditional) are
  read; ``customdiff.ForceNewIf*("attr", ...)`` and ``diff.ForceNew("attr")`` are reported as conditional.
* without it, the hand-curated table ``CURATED`` below (what the committed file was built from; see its
  comment for why it is hand-curated and from which file versions).

With a checkout, the script prints how the parsed facts differ from ``CURATED``; ``--from-checkout`` then
writes the file from the parsed facts instead. Either way the Terraform paths are mapped to CRD paths
(``snake_case`` -> ``lowerCamelCase`` per segment, upjet's rule) and each one is resolved in the shipped
CRD (``src/aiplane/data/crds``); paths that do not resolve are listed under ``notInSpec`` with the reason.
Nothing here is needed by CI; the test tests/test_forcenew_data.py checks the committed file only.

Usage:
    python scripts/extract_forcenew.py                      # rewrite the data file from CURATED
    python scripts/extract_forcenew.py --check              # exit 1 when the data file is stale
    python scripts/extract_forcenew.py --tf-checkout ../terraform-provider-aws [--from-checkout]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CRD_DIR = ROOT / "src" / "aiplane" / "data" / "crds"
OUTPUT = ROOT / "src" / "aiplane" / "data" / "forcenew.yaml"


@dataclasses.dataclass(frozen=True)
class Kind:
    group: str
    kind: str
    plural: str
    tf: str
    tf_file: str
    external_name: str  # provider-upjet-aws v2.6.0 config/externalname.go entry for the resource
    read_from: str  # which stored file version CURATED was read from (see CURATED)


KINDS: tuple[Kind, ...] = (
    Kind(
        "eks.aws.m.upbound.io",
        "NodeGroup",
        "nodegroups",
        "aws_eks_node_group",
        "internal/service/eks/node_group.go",
        'TemplatedStringAsIdentifier("node_group_name", "{{ .parameters.cluster_name }}:{{ .external_name }}")',
        "commit 012e0a32f0686212f447447fd3d81c3d0ce256ad (older than v6.34.0: the CRD has "
        "nodeRepairConfig fields the file lacks)",
    ),
    Kind(
        "eks.aws.m.upbound.io",
        "PodIdentityAssociation",
        "podidentityassociations",
        "aws_eks_pod_identity_association",
        "internal/service/eks/pod_identity_association.go",
        "eksPodIdentityAssociation()",
        "commit 00a35305dc1b297a6fcdecdfbba33f1e63c3da39 (VERSION 6.36.0)",
    ),
    Kind(
        "eks.aws.m.upbound.io",
        "Addon",
        "addons",
        "aws_eks_addon",
        "internal/service/eks/addon.go",
        'FormattedIdentifierFromProvider(":", "cluster_name", "addon_name")',
        "commit 00a35305dc1b297a6fcdecdfbba33f1e63c3da39 (VERSION 6.36.0)",
    ),
    Kind(
        "iam.aws.m.upbound.io",
        "Role",
        "roles",
        "aws_iam_role",
        "internal/service/iam/role.go",
        "NameAsIdentifier",
        "index file id 4782037191 (header 'Copyright IBM Corp. 2014, 2026')",
    ),
    Kind(
        "iam.aws.m.upbound.io",
        "RolePolicyAttachment",
        "rolepolicyattachments",
        "aws_iam_role_policy_attachment",
        "internal/service/iam/role_policy_attachment.go",
        "IdentifierFromProvider",
        "commit 04c79849dbe7fbe76c3054b364357bcdaade9ac5 (v4-era file)",
    ),
    Kind(
        "iam.aws.m.upbound.io",
        "RolePolicy",
        "rolepolicies",
        "aws_iam_role_policy",
        "internal/service/iam/role_policy.go",
        'TemplatedStringAsIdentifier("name", "{{ .parameters.role }}:{{ .external_name }}")',
        "commit 02f97af85f89a04e8ed89f5e8b64a9a67f3cfe07 (v5-era file)",
    ),
    Kind(
        "kms.aws.m.upbound.io",
        "Key",
        "keys",
        "aws_kms_key",
        "internal/service/kms/key.go",
        "IdentifierFromProvider",
        "commit 00a35305dc1b297a6fcdecdfbba33f1e63c3da39 (VERSION 6.36.0)",
    ),
    Kind(
        "s3.aws.m.upbound.io",
        "Bucket",
        "buckets",
        "aws_s3_bucket",
        "internal/service/s3/bucket.go",
        'ParameterAsIdentifier("bucket")',
        "index file id 4217687162 (v5-era file)",
    ),
    Kind(
        "s3.aws.m.upbound.io",
        "BucketServerSideEncryptionConfiguration",
        "bucketserversideencryptionconfigurations",
        "aws_s3_bucket_server_side_encryption_configuration",
        "internal/service/s3/bucket_server_side_encryption_configuration.go",
        "IdentifierFromProvider",
        "commit 01606926a0c0ab9174aec440f976a48b0baee722",
    ),
    Kind(
        "s3.aws.m.upbound.io",
        "BucketVersioning",
        "bucketversionings",
        "aws_s3_bucket_versioning",
        "internal/service/s3/bucket_versioning.go",
        "IdentifierFromProvider",
        "commit 01c08000ddb14181b5bd19201d8fca311dc570e4 (v4-era file)",
    ),
    Kind(
        "s3.aws.m.upbound.io",
        "BucketPublicAccessBlock",
        "bucketpublicaccessblocks",
        "aws_s3_bucket_public_access_block",
        "internal/service/s3/bucket_public_access_block.go",
        "IdentifierFromProvider",
        "commit 01606926a0c0ab9174aec440f976a48b0baee722",
    ),
    Kind(
        "s3.aws.m.upbound.io",
        "BucketLifecycleConfiguration",
        "bucketlifecycleconfigurations",
        "aws_s3_bucket_lifecycle_configuration",
        "internal/service/s3/bucket_lifecycle_configuration.go",
        "s3BucketIdentifier()",
        "commit 01606926a0c0ab9174aec440f976a48b0baee722 (Plugin Framework)",
    ),
    Kind(
        "sagemaker.aws.m.upbound.io",
        "Model",
        "models",
        "aws_sagemaker_model",
        "internal/service/sagemaker/model.go",
        "NameAsIdentifier",
        "commit 0cafd6b50f8e41065a3537744e2985d5bdce7d59 (header 'Copyright IBM Corp. 2014, 2025')",
    ),
    Kind(
        "sagemaker.aws.m.upbound.io",
        "EndpointConfiguration",
        "endpointconfigurations",
        "aws_sagemaker_endpoint_configuration",
        "internal/service/sagemaker/endpoint_configuration.go",
        "NameAsIdentifier",
        'index file id 54498005920 (newer than v6.34.0: @Testing(preIdentityVersion="v6.53.0"))',
    ),
    Kind(
        "sagemaker.aws.m.upbound.io",
        "Endpoint",
        "endpoints",
        "aws_sagemaker_endpoint",
        "internal/service/sagemaker/endpoint.go",
        "NameAsIdentifier",
        "index file id 6077292755",
    ),
    Kind(
        "cloudwatch.aws.m.upbound.io",
        "MetricAlarm",
        "metricalarms",
        "aws_cloudwatch_metric_alarm",
        "internal/service/cloudwatch/metric_alarm.go",
        'ParameterAsIdentifier("alarm_name")',
        "commit 055611a654738da73e7b1e2b5d2b7672c6d4d531 (v6.7.0 or later)",
    ),
    Kind(
        "cloudwatch.aws.m.upbound.io",
        "CompositeAlarm",
        "compositealarms",
        "aws_cloudwatch_composite_alarm",
        "internal/service/cloudwatch/composite_alarm.go",
        'ParameterAsIdentifier("alarm_name")',
        "commit 050ac11163cab8cdae5936a7f40b0e528ff780df (v5-era file: no actions_suppressor yet)",
    ),
    Kind(
        "servicequotas.aws.m.upbound.io",
        "ServiceQuota",
        "servicequotas",
        "aws_servicequotas_service_quota",
        "internal/service/servicequotas/service_quota.go",
        'FormattedIdentifierFromProvider("/", "service_code", "quota_code")',
        "commit 034cebb6d5e3536ed380e869dcf9227a29bb8a15 (header 'Copyright IBM Corp. 2014, 2025')",
    ),
    Kind(
        "ec2.aws.m.upbound.io",
        "Subnet",
        "subnets",
        "aws_subnet",
        "internal/service/ec2/vpc_subnet.go",
        "IdentifierFromProvider",
        "commit 00cda125a19d31754cb0d073cf551264c57955cb (header 'Copyright IBM Corp. 2014, 2026')",
    ),
    Kind(
        "appautoscaling.aws.m.upbound.io",
        "Target",
        "targets",
        "aws_appautoscaling_target",
        "internal/service/appautoscaling/target.go",
        "IdentifierFromProvider",
        "commit 0105d2191ae7e43ba37ba011b916843eddf361ed (v5-era file: no suspended_state yet)",
    ),
    Kind(
        "appautoscaling.aws.m.upbound.io",
        "Policy",
        "policies",
        "aws_appautoscaling_policy",
        "internal/service/appautoscaling/policy.go",
        'TemplatedStringAsIdentifier("name", "{{ .parameters.service_namespace }}/{{ .parameters.resource_id }}'
        '/{{ .parameters.scalable_dimension }}/{{ .external_name }}")',
        "commit 048320e88399c508ae6481be5d8ef6fd6f71a9f6 (v4-era file)",
    ),
    Kind(
        "appautoscaling.aws.m.upbound.io",
        "ScheduledAction",
        "scheduledactions",
        "aws_appautoscaling_scheduled_action",
        "internal/service/appautoscaling/scheduled_action.go",
        "IdentifierFromProvider",
        "commit 048320e88399c508ae6481be5d8ef6fd6f71a9f6 (v4-era file)",
    ),
    Kind(
        "sns.aws.m.upbound.io",
        "Topic",
        "topics",
        "aws_sns_topic",
        "internal/service/sns/topic.go",
        'TemplatedStringAsIdentifier("name", fullARNTemplate("sns", "{{ .external_name }}"))',
        "commit 00a35305dc1b297a6fcdecdfbba33f1e63c3da39 (VERSION 6.36.0)",
    ),
    Kind(
        "sns.aws.m.upbound.io",
        "TopicSubscription",
        "topicsubscriptions",
        "aws_sns_topic_subscription",
        "internal/service/sns/topic_subscription.go",
        "IdentifierFromProvider",
        "commit 04a2e6e5bc625ec85ea8c678219b483fc674877e (v5-era file)",
    ),
)

# Hand-curated Terraform facts: every attribute path below was read in the stored file version named in
# KINDS[...].read_from (the search index's copies of hashicorp/terraform-provider-aws). They are
# hand-curated because no full checkout of terraform-provider-aws at v6.34.0 (or of the upbound fork at
# f7691456b787) could be brought onto the machine that wrote them: the repository snapshot is larger than
# the fetch limit, and the stored per-file versions are not tagged. Re-run with --tf-checkout on a real
# checkout of the pinned commit to confirm or correct them (the script prints the differences).
_MODEL_CONTAINER = (
    "container_hostname",
    "environment",
    "image",
    "image_config.repository_access_mode",
    "image_config.repository_auth_config.repository_credentials_provider_arn",
    "mode",
    "model_data_url",
    "model_package_name",
    "model_data_source.s3_data_source.compression_type",
    "model_data_source.s3_data_source.model_access_config.accept_eula",
    "model_data_source.s3_data_source.s3_data_type",
    "model_data_source.s3_data_source.s3_uri",
    "additional_model_data_source.channel_name",
    "additional_model_data_source.s3_data_source.compression_type",
    "additional_model_data_source.s3_data_source.model_access_config",
    "additional_model_data_source.s3_data_source.model_access_config.accept_eula",
    "additional_model_data_source.s3_data_source.s3_data_type",
    "additional_model_data_source.s3_data_source.s3_uri",
    "inference_specification_name",
    "multi_model_config",
    "multi_model_config.model_cache_setting",
)
_PRODUCTION_VARIANT = (
    "accelerator_type",
    "capacity_reservation_config",
    "capacity_reservation_config.capacity_reservation_preference",
    "capacity_reservation_config.ml_reservation_arn",
    "container_startup_health_check_timeout_in_seconds",
    "core_dump_config",
    "core_dump_config.destination_s3_uri",
    "core_dump_config.kms_key_id",
    "enable_ssm_access",
    "inference_ami_version",
    "initial_instance_count",
    "initial_variant_weight",
    "instance_type",
    "model_data_download_timeout_in_seconds",
    "model_name",
    "routing_config",
    "routing_config.routing_strategy",
    "serverless_config",
    "serverless_config.max_concurrency",
    "serverless_config.memory_size_in_mb",
    "serverless_config.provisioned_concurrency",
    "managed_instance_scaling",
    "managed_instance_scaling.max_instance_count",
    "managed_instance_scaling.min_instance_count",
    "managed_instance_scaling.status",
    "variant_name",
    "volume_size_in_gb",
)
CURATED: dict[str, dict[str, Any]] = {
    "aws_eks_node_group": {
        "forceNew": [
            "ami_type",
            "capacity_type",
            "cluster_name",
            "disk_size",
            "instance_types",
            "launch_template.id",
            "launch_template.name",
            "node_group_name",
            "node_group_name_prefix",
            "node_role_arn",
            "remote_access",
            "remote_access.ec2_ssh_key",
            "remote_access.source_security_group_ids",
            "subnet_ids",
        ]
    },
    "aws_eks_pod_identity_association": {"forceNew": ["cluster_name", "namespace", "service_account"]},
    "aws_eks_addon": {"forceNew": ["addon_name", "cluster_name"]},
    "aws_iam_role": {"forceNew": ["name", "name_prefix", "path"]},
    "aws_iam_role_policy_attachment": {"forceNew": ["policy_arn", "role"]},
    "aws_iam_role_policy": {"forceNew": ["name", "name_prefix", "role"]},
    "aws_kms_key": {
        "forceNew": [
            "custom_key_store_id",
            "customer_master_key_spec",
            "key_usage",
            "multi_region",
            "xks_key_id",
        ]
    },
    "aws_s3_bucket": {
        "forceNew": [
            "bucket",
            "bucket_prefix",
            "object_lock_configuration.object_lock_enabled",
            "object_lock_enabled",
        ]
    },
    "aws_s3_bucket_server_side_encryption_configuration": {"forceNew": ["bucket", "expected_bucket_owner"]},
    "aws_s3_bucket_versioning": {"forceNew": ["bucket", "expected_bucket_owner"]},
    "aws_s3_bucket_public_access_block": {"forceNew": ["bucket"]},
    "aws_s3_bucket_lifecycle_configuration": {"forceNew": ["bucket", "expected_bucket_owner"]},
    "aws_sagemaker_model": {
        "forceNew": [
            *(f"container.{p}" for p in _MODEL_CONTAINER),
            "enable_network_isolation",
            "execution_role_arn",
            "inference_execution_config",
            "name",
            *(f"primary_container.{p}" for p in _MODEL_CONTAINER),
            "vpc_config",
        ]
    },
    "aws_sagemaker_endpoint_configuration": {
        "forceNew": [
            "async_inference_config",
            "async_inference_config.client_config",
            "async_inference_config.client_config.max_concurrent_invocations_per_instance",
            "async_inference_config.output_config",
            "async_inference_config.output_config.kms_key_id",
            "async_inference_config.output_config.notification_config",
            "async_inference_config.output_config.notification_config.error_topic",
            "async_inference_config.output_config.notification_config.include_inference_response_in",
            "async_inference_config.output_config.notification_config.success_topic",
            "async_inference_config.output_config.s3_failure_path",
            "async_inference_config.output_config.s3_output_path",
            "data_capture_config",
            "data_capture_config.capture_content_type_header",
            "data_capture_config.capture_content_type_header.csv_content_types",
            "data_capture_config.capture_content_type_header.json_content_types",
            "data_capture_config.capture_options",
            "data_capture_config.capture_options.capture_mode",
            "data_capture_config.destination_s3_uri",
            "data_capture_config.enable_capture",
            "data_capture_config.initial_sampling_percentage",
            "data_capture_config.kms_key_id",
            "execution_role_arn",
            "kms_key_arn",
            "name",
            "name_prefix",
            *(f"production_variants.{p}" for p in _PRODUCTION_VARIANT),
            *(f"shadow_production_variants.{p}" for p in _PRODUCTION_VARIANT),
        ]
    },
    "aws_sagemaker_endpoint": {"forceNew": ["deployment_config.auto_rollback_configuration", "name"]},
    "aws_cloudwatch_metric_alarm": {"forceNew": ["alarm_name"]},
    "aws_cloudwatch_composite_alarm": {"forceNew": ["actions_enabled", "alarm_name"]},
    "aws_servicequotas_service_quota": {"forceNew": ["quota_code", "service_code"]},
    "aws_subnet": {
        "forceNew": [
            "availability_zone",
            "availability_zone_id",
            "cidr_block",
            "ipv4_ipam_pool_id",
            "ipv4_netmask_length",
            "ipv6_ipam_pool_id",
            "ipv6_native",
            "ipv6_netmask_length",
            "outpost_arn",
            "vpc_id",
        ],
        "conditional": {
            "ipv6_cidr_block": "customdiff.ForceNewIf: replaced only when ipv6_cidr_block changes and the "
            "subnet had assign_ipv6_address_on_creation = true"
        },
    },
    "aws_appautoscaling_target": {"forceNew": ["resource_id", "scalable_dimension", "service_namespace"]},
    "aws_appautoscaling_policy": {
        "forceNew": ["name", "resource_id", "scalable_dimension", "service_namespace"]
    },
    "aws_appautoscaling_scheduled_action": {
        "forceNew": ["name", "resource_id", "scalable_dimension", "service_namespace"]
    },
    "aws_sns_topic": {"forceNew": ["fifo_topic", "name", "name_prefix"]},
    "aws_sns_topic_subscription": {"forceNew": ["endpoint", "protocol", "topic_arn"]},
}

# Per-kind remarks that are not derivable from the schema maps (all read in the same file versions).
NOTES: dict[str, str] = {
    "aws_sns_topic_subscription": "CustomizeDiff is resourceTopicSubscriptionCustomizeDiff, whose body "
    "was not read: it may add conditional replacements not listed here.",
    "aws_sagemaker_endpoint_configuration": "Update is 'Tags only': every other argument forces replacement.",
}

HEADER = """\
# Fields whose change forces replacement of a managed resource. The provider refuses such an in-place
# update (upjet: "refuse to update the external resource because the following update requires replacing
# it"), so a Composition must never change them on an existing resource.
# Generated by `scripts/extract_forcenew.py --tf-checkout <terraform-provider-aws source> --from-checkout` (the
# source: `go mod download` of the module provider-upjet-aws pins, see source below); do not edit by hand.
"""

SOURCE: dict[str, Any] = {
    "date": "2026-12-01",
    "providerUpjetAws": {
        "repository": "github.com/crossplane-contrib/provider-upjet-aws",
        "tag": "v2.6.0",
        "commit": "857b535dd0eb9b8242ad9d7c4e54aaa3e4616d60",
        "terraformProvider": "Makefile TERRAFORM_PROVIDER_VERSION := 6.34.0; go.mod replace "
        "github.com/hashicorp/terraform-provider-aws => github.com/upbound/"
        "terraform-provider-aws v0.0.0-20260305123303-f7691456b787 "
        "(commit f7691456b787d0cd6c4e4dd0fa1fa47b3feabb18)",
        "overrides": "no ForceNew/RequiresReplace override in config/namespaced/{eks,iam,kms,s3,sagemaker,"
        "cloudwatch,servicequotas,ec2,appautoscaling,sns}/config.go (git grep at v2.6.0: the "
        "only ForceNew overrides are in elbv2); external-name configs from config/externalname.go",
    },
    "terraformProviderAws": {
        "repository": "github.com/hashicorp/terraform-provider-aws (upbound fork, pinned by provider-upjet-aws)",
        "files": "internal/service/<svc>/<resource>.go (per kind: terraformFile)",
        "versionsRead": "the pinned source: github.com/upbound/terraform-provider-aws@v0.0.0-20260305123303-"
        "f7691456b787 from the Go module proxy (go mod download with GONOSUMDB for that module: the checksum "
        "database has no entry for the pseudo-version), parsed with --tf-checkout --from-checkout on "
        "2026-12-01; except EndpointConfiguration and MetricAlarm, whose schema maps the parser cannot "
        "balance: those keep the hand-curated entries read from stored copies of the hashicorp files "
        "(per kind: readFrom) and are to be confirmed by hand against the pinned source.",
    },
    "extraction": "hand-curated from the read schema maps (SDKv2 ForceNew: true; Plugin Framework "
    "PlanModifiers RequiresReplace()); CustomizeDiff ForceNewIf* listed as conditional. "
    "TF paths mapped snake_case -> lowerCamelCase per segment and resolved in the shipped CRD "
    "(src/aiplane/data/crds/<group>_<plural>.yaml, storage version). scripts/"
    "extract_forcenew.py --tf-checkout re-extracts from a checkout and prints the differences.",
    "notInSpec": "ForceNew Terraform attributes with no spec.forProvider path. why=external-name: upjet "
    "omits the attribute and the crossplane.io/external-name annotation carries it (the kind's externalName "
    "config, provider-upjet-aws config/externalname.go); why=absent-from-crd: the v2.6.0 CRD has no such "
    "field (deprecated attribute upjet dropped, or an attribute newer than v6.34.0 in the file version read)",
    "pathSyntax": "relative to the MR; list-valued blocks are crossed without an index "
    "(spec.forProvider.productionVariants.instanceType means that field in any element)",
}


# --------------------------------------------------------------------------------------------------------
# CRD mapping


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def crd_schema(kind: Kind) -> tuple[str, dict[str, Any]]:
    """(apiVersion, openAPIV3Schema) of the CRD's storage version."""
    crd = yaml.safe_load((CRD_DIR / f"{kind.group}_{kind.plural}.yaml").read_text())
    versions = crd["spec"]["versions"]
    version = next((v for v in versions if v.get("storage")), versions[0])
    return f"{kind.group}/{version['name']}", version["schema"]["openAPIV3Schema"]


def _props(node: dict[str, Any]) -> dict[str, Any]:
    if node.get("type") == "array":
        node = node.get("items") or {}
    return node.get("properties") or {}


def resolve(schema: dict[str, Any], tf_path: str) -> tuple[str | None, list[str]]:
    """CRD path (or None) for a TF attribute path under spec.forProvider, and the Ref/Selector siblings."""
    node = schema["properties"]["spec"]["properties"]["forProvider"]
    parent: dict[str, Any] = {}
    names = []
    for segment in tf_path.split("."):
        name = camel(segment)
        parent = _props(node)
        if name not in parent:
            return None, []
        names.append(name)
        node = parent[name]
    leaf = names[-1]
    candidates = [leaf + "Ref", leaf + "Selector"]
    if leaf.endswith("s"):
        candidates += [leaf[:-1] + "Refs", leaf[:-1] + "Selector"]
    refs = [c for c in candidates if c in parent]
    return "spec.forProvider." + ".".join(names), refs


# --------------------------------------------------------------------------------------------------------
# Go scanner (used only with --tf-checkout)


def _skip_literal(src: str, i: int) -> int:
    """Index just past the string/rune/comment starting at src[i], or i when none starts there."""
    c = src[i]
    if c == '"' or c == "'":
        j = i + 1
        while j < len(src) and src[j] != c:
            j += 2 if src[j] == "\\" else 1
        return j + 1
    if c == "`":
        return src.index("`", i + 1) + 1
    if src.startswith("//", i):
        end = src.find("\n", i)
        return len(src) if end < 0 else end
    if src.startswith("/*", i):
        return src.index("*/", i + 2) + 2
    return i


def _close(src: str, i: int) -> int:
    """Index of the bracket closing the one at src[i]."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    stack = [pairs[src[i]]]
    j = i + 1
    while j < len(src):
        k = _skip_literal(src, j)
        if k != j:
            j = k
            continue
        c = src[j]
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")}]":
            stack.pop()
            if not stack:
                return j
        j += 1
    raise ValueError("unbalanced brackets")


def _split_top(body: str, sep: str) -> list[str]:
    """Split on `sep` outside brackets, strings and comments."""
    out, depth, start, j = [], 0, 0, 0
    while j < len(body):
        k = _skip_literal(body, j)
        if k != j:
            j = k
            continue
        c = body[j]
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif c == sep and depth == 0:
            out.append(body[start:j])
            start = j + 1
            if sep == ":":
                break
        j += 1
    out.append(body[start:])
    return [part for part in out if _strip(part)]


def _strip(text: str) -> str:
    text = re.sub(r"//[^\n]*", "", text)
    return text.strip()


def _entries(src: str, brace: int) -> list[tuple[str, str]]:
    """Key/value pairs of the composite literal whose `{` is at src[brace]."""
    body = src[brace + 1 : _close(src, brace)]
    pairs = []
    for element in _split_top(body, ","):
        parts = _split_top(element, ":")
        if len(parts) == 2:
            pairs.append((_strip(parts[0]), _strip(parts[1])))
    return pairs


class GoFacts:
    def __init__(self, checkout: Path):
        self.checkout = checkout
        self.attrs: dict[str, str] = {}
        for path in sorted((checkout / "names").glob("*.go")):
            for const, value in re.findall(r"\b(Attr\w+)\s*=\s*\"([^\"]*)\"", path.read_text()):
                self.attrs.setdefault(const, value)

    def key(self, expr: str) -> str | None:
        if expr.startswith('"'):
            return json.loads(expr)
        match = re.fullmatch(r"names\.(Attr\w+)", expr)
        if match and match.group(1) in self.attrs:
            return self.attrs[match.group(1)]
        return None

    def extract(self, kind: Kind) -> dict[str, Any]:
        src = (self.checkout / kind.tf_file).read_text()
        forcenew: list[str] = []
        conditional: dict[str, str] = {}
        unknown: list[str] = []
        fw = re.search(r'@FrameworkResource\("' + re.escape(kind.tf) + '"', src)
        if fw:
            match = re.compile(r"\.Schema\s*=\s*schema\.Schema\{").search(src, fw.end())
            if not match:
                raise ValueError(f"{kind.tf_file}: no framework schema")
            self._framework(src, match.end() - 1, "", forcenew, conditional, unknown)
        else:
            sdk = re.search(r'@SDKResource\("' + re.escape(kind.tf) + '"', src)
            start = sdk.end() if sdk else 0
            brace = self._sdk_root(src, start)
            self._sdk(src, brace, "", forcenew, unknown)
        for match in re.finditer(r"ForceNewIf(?:Change)?\(\s*([^,]+),", src):
            name = self.key(_strip(match.group(1)))
            if name:
                conditional.setdefault(name, "customdiff." + match.group(0).split("(")[0])
        for match in re.finditer(r"\.ForceNew\(\s*([^)]+)\)", src):
            name = self.key(_strip(match.group(1)))
            if name:
                conditional.setdefault(name, "ResourceDiff.ForceNew in CustomizeDiff")
        return {"forceNew": sorted(forcenew), "conditional": conditional, "unparsed": unknown}

    def _sdk_root(self, src: str, start: int) -> int:
        schema_map = re.compile(r"map\[string\]\*schema\.Schema\s*\{")
        match = re.compile(r"\bSchema(?:Func)?\s*:\s*").search(src, start)
        if not match:
            raise ValueError("no Schema field")
        rest = src[match.end() :]
        if rest.startswith("func"):
            found = re.compile(r"return\s+map\[string\]\*schema\.Schema\s*\{").search(src, match.end())
            if not found:
                raise ValueError("no schema map in SchemaFunc")
            return found.end() - 1
        ident = re.match(r"([A-Za-z_]\w*)\s*,", rest)
        if ident and ident.group(1) not in ("map", "func"):
            decl = re.compile(r"\b" + ident.group(1) + r"\s*:?=\s*map\[string\]\*schema\.Schema\s*\{").search(
                src
            )
            if not decl:
                raise ValueError(f"schema variable {ident.group(1)} not found")
            return decl.end() - 1
        found = schema_map.search(src, match.end())
        if not found:
            raise ValueError("no schema map")
        return found.end() - 1

    def _sdk(self, src: str, brace: int, prefix: str, out: list[str], unknown: list[str]) -> None:
        for key_expr, value in _entries(src, brace):
            name = self.key(key_expr)
            if name is None:
                unknown.append(prefix + key_expr)
                continue
            if not value.startswith("{"):
                continue  # helper call such as tftags.TagsSchema(): not ForceNew in the files read
            fields = dict(_entries(value, 0))
            if fields.get("ForceNew") == "true":
                out.append(prefix + name)
            elem = fields.get("Elem", "")
            nested = re.search(r"map\[string\]\*schema\.Schema\s*\{", elem)
            if elem.startswith("&schema.Resource") and nested:
                self._sdk(elem, nested.end() - 1, f"{prefix}{name}.", out, unknown)

    def _framework(
        self, src: str, brace: int, prefix: str, out: list[str], cond: dict[str, str], unknown: list[str]
    ) -> None:
        fields = dict(_entries(src, brace))
        for section in ("Attributes", "Blocks"):
            body = fields.get(section, "")
            if not body.startswith("map["):
                continue
            for key_expr, value in _entries(body, body.index("{")):
                name = self.key(key_expr)
                if name is None:
                    unknown.append(prefix + key_expr)
                    continue
                lit = re.match(r"[\w.]+(?:\[[^\]]*\])?\{", value)
                if not lit:
                    continue  # helper call (tags, timeouts, framework.IDAttribute())
                own = dict(_entries(value, lit.end() - 1))
                modifiers = own.get("PlanModifiers", "")
                if re.search(r"\bRequiresReplace\(\)", modifiers):
                    out.append(prefix + name)
                elif "RequiresReplaceIf" in modifiers:
                    cond[prefix + name] = "Plugin Framework RequiresReplaceIf plan modifier"
                nested = own.get("NestedObject", "")
                brace_at = nested.find("{")
                if brace_at >= 0:
                    self._framework(nested, brace_at, f"{prefix}{name}.", out, cond, unknown)


# --------------------------------------------------------------------------------------------------------
# Rendering


def build(facts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    kinds = []
    for kind in KINDS:
        api_version, schema = crd_schema(kind)
        fact = facts[kind.tf]
        forcenew, not_in_spec, conditional = [], [], []
        for tf_path in fact["forceNew"]:
            path, refs = resolve(schema, tf_path)
            if path:
                entry = {"path": path, "tf": tf_path}
                if refs:
                    entry["refs"] = refs
                forcenew.append(entry)
            else:
                not_in_spec.append({"tf": tf_path, "why": _why_absent(kind, tf_path)})
        for tf_path, note in sorted(fact.get("conditional", {}).items()):
            path, _ = resolve(schema, tf_path)
            conditional.append({"path": path or "(not in spec)", "tf": tf_path, "note": note})
        item: dict[str, Any] = {
            "apiVersion": api_version,
            "kind": kind.kind,
            "terraformResource": kind.tf,
            "terraformFile": kind.tf_file,
            "readFrom": fact.get("readFrom", kind.read_from),
            "externalName": kind.external_name,
            "forceNew": forcenew,
        }
        if conditional:
            item["conditional"] = conditional
        if not_in_spec:
            item["notInSpec"] = not_in_spec
        if kind.tf in NOTES:
            item["note"] = NOTES[kind.tf]
        kinds.append(item)
    return kinds


def _why_absent(kind: Kind, tf_path: str) -> str:
    match = re.match(r'\w+\("(\w+)"', kind.external_name)
    identifier = "name" if kind.external_name == "NameAsIdentifier" else (match.group(1) if match else None)
    if identifier and tf_path in (identifier, identifier + "_prefix"):
        return "external-name"
    return "absent-from-crd"


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return json.dumps(value)


def render(kinds: list[dict[str, Any]]) -> str:
    lines = [HEADER.rstrip("\n"), "source:"]
    for key, value in SOURCE.items():
        if isinstance(value, dict):
            lines.append(f"  {key}:")
            lines += [f"    {k}: {json.dumps(v)}" for k, v in value.items()]
        else:
            lines.append(f"  {key}: {json.dumps(value)}")
    lines.append("kinds:")
    for item in kinds:
        lines.append(f"  - apiVersion: {item['apiVersion']}")
        for key in ("kind", "terraformResource", "terraformFile", "readFrom", "externalName", "note"):
            if key in item:
                lines.append(f"    {key}: {json.dumps(item[key])}")
        for key in ("forceNew", "conditional", "notInSpec"):
            if key in item:
                lines.append(f"    {key}:" + ("" if item[key] else " []"))
                lines += [f"      - {_flow(entry)}" for entry in item[key]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tf-checkout", type=Path, help="local checkout of terraform-provider-aws")
    parser.add_argument("--from-checkout", action="store_true", help="write the file from the checkout")
    parser.add_argument("--check", action="store_true", help="only compare with the committed file")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    facts: dict[str, dict[str, Any]] = CURATED
    if args.tf_checkout:
        go = GoFacts(args.tf_checkout)
        parsed = {}
        for kind in KINDS:
            try:
                parsed[kind.tf] = {**go.extract(kind), "readFrom": f"parsed from the checkout {args.tf_checkout.name}"}
            except (OSError, ValueError) as err:
                print(f"{kind.tf}: {err}; keeping CURATED", file=sys.stderr)
                parsed[kind.tf] = CURATED[kind.tf]
                continue
            got, want = set(parsed[kind.tf]["forceNew"]), set(CURATED[kind.tf]["forceNew"])
            cond_got = set(parsed[kind.tf]["conditional"])
            cond_want = set(CURATED[kind.tf].get("conditional", {}))
            for label, diff in (
                ("only in checkout", got - want),
                ("only in CURATED", want - got),
                ("conditional only in checkout", cond_got - cond_want),
                ("conditional only in CURATED", cond_want - cond_got),
                ("keys not resolved", set(parsed[kind.tf]["unparsed"])),
            ):
                if diff:
                    print(f"{kind.tf}: {label}: {', '.join(sorted(diff))}")
        if args.from_checkout:
            facts = parsed
    text = render(build(facts))
    if args.check:
        if args.output.read_text() != text:
            print(f"{args.output} is stale: run scripts/extract_forcenew.py", file=sys.stderr)
            return 1
        return 0
    if not args.tf_checkout or args.from_checkout:
        args.output.write_text(text)
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
