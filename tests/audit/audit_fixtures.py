"""What prod's account looks like when it matches Git, written out by hand (not derived from the
renderer, so a rendering regression shows up as a finding), and a seeder that builds it with boto3."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from botocore.stub import Stubber

from aiplane.audit.live import Clients

ACCOUNT = "777788889999"
REGION = "us-east-1"
CLUSTER = "ai-prod"
AMI = "ami-12c6146b"  # an image moto ships


def finops(cost_center: str, owner: str, tier: str, xr: str) -> dict[str, str]:
    return {"managed-by": "aiplane", "cost-center": cost_center, "owner": owner, "environment": "prod",
            "tier": tier, "xr-name": xr}


def node_group(capacity: str, types: list[str], lo: int, hi: int, ami: str, tags: dict[str, str]) -> dict[str, Any]:
    return {"capacityType": capacity, "instanceTypes": types, "minSize": lo, "maxSize": hi, "amiType": ami,
            "tags": tags}


def lifecycle(noncurrent: int, expire: int | None = None) -> list[dict[str, Any]]:
    rule: dict[str, Any] = {"ID": "aiplane-retention", "Status": "Enabled", "Filter": {"Prefix": ""},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                            "NoncurrentVersionExpiration": {"NoncurrentDays": noncurrent}}
    if expire is not None:
        rule["Expiration"] = {"Days": expire}
    return [rule]


def bucket(xr: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"sse": "aws:kms", "bucketKey": True, "versioning": "Enabled", "lifecycle": rules,
            "publicAccessBlock": {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
                                  "RestrictPublicBuckets": True},
            "tags": finops("ml-products", "ml-platform", "production", xr)}


def endpoint(instance_type: str, count: int, sampling: int, prefix: str, tags: dict[str, str]) -> dict[str, Any]:
    return {"instanceType": instance_type, "count": count, "capture": True, "sampling": sampling,
            "destination": f"s3://prod-captures-{ACCOUNT}/{prefix}", "tags": tags}


NVIDIA = "AL2023_x86_64_NVIDIA"
LLM = ("llm-serving", "llm-serving", "production-critical", "llm-inference")
PROD: dict[str, Any] = {
    "node_groups": {
        "prod-llm-inference-ondemand": node_group("ON_DEMAND", ["g5.12xlarge", "g6.12xlarge"], 2, 2, NVIDIA, finops(*LLM)),
        "prod-llm-inference-spot": node_group("SPOT", ["g5.12xlarge", "g6.12xlarge"], 2, 6, NVIDIA, finops(*LLM)),
        "prod-fine-tuning-spot": node_group("SPOT", ["p4d.24xlarge"], 0, 2, NVIDIA,
                                            finops("ml-products", "ml-platform", "batch", "fine-tuning")),
        "prod-neuron-inference-ondemand": node_group(
            "ON_DEMAND", ["inf2.48xlarge"], 1, 2, "AL2023_x86_64_NEURON",
            finops("llm-serving", "llm-serving", "production", "neuron-inference")),
    },
    "buckets": {
        f"prod-artifacts-{ACCOUNT}": bucket("artifacts", lifecycle(90)),
        f"prod-captures-{ACCOUNT}": bucket("captures", lifecycle(30, 365)),
    },
    "endpoints": {
        "prod-fraud-scoring": endpoint("ml.m5.xlarge", 2, 20, "fraud-scoring",
                                       finops("risk", "fraud-ml", "production-critical", "fraud-scoring")),
        "prod-chat-assistant": endpoint("ml.g5.2xlarge", 2, 10, "chat-assistant",
                                        finops("ml-products", "ml-platform", "production", "chat-assistant")),
    },
    # Nodes of declared node groups: EKS tags them with the cluster and node group, not with FinOps tags.
    "instances": [
        {"type": "g5.12xlarge", "tags": {"eks:cluster-name": CLUSTER,
                                         "eks:nodegroup-name": "prod-llm-inference-ondemand"}},
        {"type": "inf2.48xlarge", "tags": {"eks:cluster-name": CLUSTER,
                                           "eks:nodegroup-name": "prod-neuron-inference-ondemand"}},
    ],
}
# Applied quotas by code (EC2 vCPU quotas; `sagemaker/<code>` for SageMaker endpoint instance quotas): exactly
# what prod's `quotas: auto` needs.
PROD_QUOTAS: dict[str, float | None] = {
    "L-DB2E81BA": 96.0,   # g on-demand
    "L-3819A6DF": 288.0,  # g spot
    "L-1945791B": 384.0,  # inf on-demand
    "L-7212CCBC": 192.0,  # p spot
    "sagemaker/L-9614C779": 6.0,  # ml.g5.2xlarge for endpoint usage: chat-assistant's autoscaling maxInstances
    "sagemaker/L-2F737F8D": 2.0,  # ml.m5.xlarge for endpoint usage
}


def prod_account() -> dict[str, Any]:
    """A fresh copy of prod as Git declares it, for a test to change."""
    return copy.deepcopy(PROD)


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def seed(account: dict[str, Any], client: Callable[[str], Any]) -> None:
    """Create the account's resources; `client(service)` returns a boto3 client (moto in tests)."""
    eks = client("eks")
    eks.create_cluster(name=CLUSTER, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
                       resourcesVpcConfig={"subnetIds": ["subnet-1"]})
    for name, ng in account["node_groups"].items():
        eks.create_nodegroup(clusterName=CLUSTER, nodegroupName=name, nodeRole=f"arn:aws:iam::{ACCOUNT}:role/n",
                             subnets=["subnet-1"], instanceTypes=ng["instanceTypes"],
                             capacityType=ng["capacityType"], amiType=ng["amiType"], tags=ng["tags"],
                             scalingConfig={"minSize": ng["minSize"], "maxSize": ng["maxSize"],
                                            "desiredSize": ng.get("desiredSize", max(ng["minSize"], 1))})
    s3 = client("s3")
    key = client("kms").create_key()["KeyMetadata"]["Arn"]
    for name, b in account["buckets"].items():
        s3.create_bucket(Bucket=name)
        if b["sse"]:
            by_default = {"SSEAlgorithm": b["sse"]}
            if b["sse"] == "aws:kms":
                by_default["KMSMasterKeyID"] = key
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": by_default, "BucketKeyEnabled": b["bucketKey"]}]})
        if b["publicAccessBlock"]:
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=b["publicAccessBlock"])
        if b["versioning"]:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": b["versioning"]})
        if b["lifecycle"]:
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": b["lifecycle"]})
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tag_list(b["tags"])})
    sm = client("sagemaker")
    for name, e in account["endpoints"].items():
        add_endpoint(sm, name, e)
    ec2 = client("ec2")
    for instance in account["instances"]:
        run_instance(ec2, instance["type"], instance["tags"])


def add_endpoint(sm: Any, name: str, e: dict[str, Any]) -> None:
    sm.create_model(ModelName=name, ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sagemaker",
                    PrimaryContainer={"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}:1"})
    config: dict[str, Any] = {
        "EndpointConfigName": name,
        "ProductionVariants": [{"VariantName": "primary", "ModelName": name, "InstanceType": e["instanceType"],
                                "InitialInstanceCount": e["count"], "InitialVariantWeight": 1.0}],
        "Tags": _tag_list(e["tags"]),
    }
    if e.get("destination"):
        config["DataCaptureConfig"] = {
            "EnableCapture": e["capture"], "InitialSamplingPercentage": e["sampling"],
            "DestinationS3Uri": e["destination"],
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}
    sm.create_endpoint_config(**config)
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=_tag_list(e["tags"]))


def run_instance(ec2: Any, instance_type: str, tags: dict[str, str], count: int = 1) -> list[str]:
    spec: dict[str, Any] = {"ImageId": AMI, "MinCount": count, "MaxCount": count, "InstanceType": instance_type}
    if tags:
        spec["TagSpecifications"] = [{"ResourceType": "instance", "Tags": _tag_list(tags)}]
    return [i["InstanceId"] for i in ec2.run_instances(**spec)["Instances"]]


class StubbedQuotaClients(Clients):
    """moto for everything but Service Quotas, which moto cannot answer for EC2 (it only knows `vpc`):
    a botocore Stubber serves get_service_quota with the given applied values (None: no applied value)."""

    def __init__(self, applied: dict[str, float | None], page_size: int | None = None,
                 session: Any = None) -> None:
        super().__init__(session, page_size=page_size)
        self.applied = applied
        self.stubbers: list[Stubber] = []

    def client(self, service: str, region: str) -> Any:
        fresh = (service, region) not in self._clients
        made = super().client(service, region)
        if service == "service-quotas" and fresh:
            stubber = Stubber(made)
            # The audit reads quotas in (region, code) order.
            for key in sorted(self.applied, key=lambda k: k.rsplit("/", 1)[-1]):
                value = self.applied[key]
                service, _, code = key.rpartition("/")
                params = {"ServiceCode": service or "ec2", "QuotaCode": code}
                if value is None:
                    stubber.add_client_error("get_service_quota", "NoSuchResourceException",
                                             "no applied value", expected_params=params)
                else:
                    stubber.add_response("get_service_quota", {"Quota": {**params, "Value": value}}, params)
            stubber.activate()
            self.stubbers.append(stubber)
        return made
