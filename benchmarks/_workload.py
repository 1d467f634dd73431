"""Objects for the benchmarks: valid objects of the shipped kinds, varied by index, built as plain dicts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

TAGS = {"cost-center": "ml-platform", "aiplane.io/environment": "dev"}
CPC = {"kind": "ClusterProviderConfig", "name": "default"}


def _meta(name: str, namespace: str | None = "team-ml") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"aiplane.io/environment": "dev"}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def nodegroup(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "eks.aws.m.upbound.io/v1beta1",
        "kind": "NodeGroup",
        "metadata": _meta(f"gpu-{i}"),
        "spec": {
            "forProvider": {
                "region": "us-east-1",
                "clusterNameSelector": {"matchControllerRef": True},
                "nodeRoleArnSelector": {
                    "matchControllerRef": True,
                    "matchLabels": {"aiplane.io/part": "role"},
                },
                "subnetIds": [f"subnet-{i:08x}", f"subnet-{i + 1:08x}"],
                "instanceTypes": ["g5.xlarge"],
                "capacityType": "SPOT" if i % 2 else "ON_DEMAND",
                "amiType": "AL2023_x86_64_NVIDIA",
                "scalingConfig": {"minSize": 0, "maxSize": 2 + i % 8},
                "labels": {"nvidia.com/gpu.present": "true"},
                "taint": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
                "tags": TAGS,
            },
            "initProvider": {"scalingConfig": {"desiredSize": 1}},
            "providerConfigRef": CPC,
        },
    }


def bucket(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "s3.aws.m.upbound.io/v1beta1",
        "kind": "Bucket",
        "metadata": _meta(f"artifacts-{i}"),
        "spec": {"forProvider": {"region": "us-east-1", "forceDestroy": False, "tags": TAGS}},
    }


def sse(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "s3.aws.m.upbound.io/v1beta1",
        "kind": "BucketServerSideEncryptionConfiguration",
        "metadata": _meta(f"artifacts-{i}"),
        "spec": {
            "forProvider": {
                "region": "us-east-1",
                "bucketRef": {"name": f"artifacts-{i}"},
                "rule": [
                    {
                        "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"},
                        "bucketKeyEnabled": True,
                    }
                ],
            }
        },
    }


def endpoint_config(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "sagemaker.aws.m.upbound.io/v1beta1",
        "kind": "EndpointConfiguration",
        "metadata": _meta(f"llm-{i}"),
        "spec": {
            "forProvider": {
                "region": "us-east-1",
                "productionVariants": [
                    {
                        "variantName": "primary",
                        "modelNameSelector": {"matchControllerRef": True},
                        "instanceType": "ml.g5.2xlarge",
                        "initialInstanceCount": 1 + i % 3,
                        "initialVariantWeight": 1,
                    }
                ],
                "dataCaptureConfig": {
                    "enableCapture": True,
                    "initialSamplingPercentage": 20,
                    "destinationS3Uri": f"s3://artifacts-{i}/capture",
                    "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}],
                },
                "tags": TAGS,
            }
        },
    }


def alarm(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "cloudwatch.aws.m.upbound.io/v1beta1",
        "kind": "MetricAlarm",
        "metadata": _meta(f"latency-{i}"),
        "spec": {
            "forProvider": {
                "region": "us-east-1",
                "metricName": "ModelLatency",
                "namespace": "AWS/SageMaker",
                "dimensions": {"EndpointName": f"llm-{i}"},
                "statistic": "Average",
                "period": 60,
                "evaluationPeriods": 3,
                "threshold": 500000,
                "comparisonOperator": "GreaterThanThreshold",
            }
        },
    }


def quota(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "servicequotas.aws.m.upbound.io/v1beta1",
        "kind": "ServiceQuota",
        "metadata": _meta(f"gpu-quota-{i}"),
        "spec": {
            "managementPolicies": ["Observe", "Create", "Update", "LateInitialize"],
            "forProvider": {
                "region": "us-east-1",
                "serviceCode": "ec2",
                "quotaCode": "L-DB2E81BA",
                "value": 64 + i,
            },
        },
    }


def role(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "iam.aws.m.upbound.io/v1beta1",
        "kind": "Role",
        "metadata": _meta(f"exec-{i}"),
        "spec": {
            "forProvider": {
                "assumeRolePolicy": '{"Version": "2012-10-17", "Statement": []}',
                "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"],
                "tags": TAGS,
            }
        },
    }


def kustomization(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": _meta(f"env-{i}", "flux-system"),
        "spec": {
            "interval": "10m",
            "path": f"./manifests/environments/env-{i}",
            "prune": True,
            "wait": True,
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
            "dependsOn": [{"name": "platform-apis"}],
        },
    }


def function(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "pkg.crossplane.io/v1",
        "kind": "Function",
        "metadata": _meta(f"fn-{i}", None),
        "spec": {"package": "xpkg.crossplane.io/crossplane-contrib/function-auto-ready:v0.7.0"},
    }


def cronjob(i: int) -> dict[str, Any]:
    container = {
        "name": "monitor",
        "image": "ghcr.io/aiplane/ethics-monitor:0.1.0",
        "args": ["--endpoint", f"llm-{i}"],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(f"monitor-{i}"),
        "spec": {
            "schedule": "*/30 * * * *",
            "jobTemplate": {
                "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}
            },
        },
    }


def xrd(i: int) -> dict[str, Any]:
    group = f"g{i}.aiplane.io"
    return {
        "apiVersion": "apiextensions.crossplane.io/v2",
        "kind": "CompositeResourceDefinition",
        "metadata": {"name": f"gpunodepools.{group}"},
        "spec": {
            "scope": "Namespaced",
            "group": group,
            "names": {"kind": "GPUNodePool", "plural": "gpunodepools"},
            "versions": [
                {
                    "name": "v1alpha1",
                    "served": True,
                    "referenceable": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {
                                        "parameters": {
                                            "type": "object",
                                            "required": ["maxSize"],
                                            "properties": {
                                                "maxSize": {"type": "integer", "minimum": 1},
                                                "instanceType": {"type": "string"},
                                            },
                                        }
                                    },
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


def composite(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "g0.aiplane.io/v1alpha1",
        "kind": "GPUNodePool",
        "metadata": _meta(f"pool-{i}"),
        "spec": {"parameters": {"maxSize": 1 + i % 10, "instanceType": "g5.xlarge"}},
    }


def composition(i: int) -> dict[str, Any]:
    base = nodegroup(0)
    del base["metadata"]
    return {
        "apiVersion": "apiextensions.crossplane.io/v1",
        "kind": "Composition",
        "metadata": {"name": f"gpunodepool-aws-{i}"},
        "spec": {
            "compositeTypeRef": {"apiVersion": "g0.aiplane.io/v1alpha1", "kind": "GPUNodePool"},
            "mode": "Pipeline",
            "pipeline": [
                {
                    "step": "patch-and-transform",
                    "functionRef": {"name": "crossplane-contrib-function-patch-and-transform"},
                    "input": {
                        "apiVersion": "pt.fn.crossplane.io/v1beta1",
                        "kind": "Resources",
                        "resources": [
                            {
                                "name": "nodegroup",
                                "base": base,
                                "patches": [
                                    {
                                        "type": "FromCompositeFieldPath",
                                        "fromFieldPath": "spec.parameters.maxSize",
                                        "toFieldPath": "spec.forProvider.scalingConfig.maxSize",
                                    },
                                    {
                                        "type": "FromCompositeFieldPath",
                                        "fromFieldPath": "spec.parameters.instanceType",
                                        "toFieldPath": "spec.forProvider.instanceTypes[0]",
                                    },
                                ],
                            }
                        ],
                    },
                },
                {"step": "auto-ready", "functionRef": {"name": "crossplane-contrib-function-auto-ready"}},
            ],
        },
    }


# Relative frequency: environments are mostly MRs and XRs; platform objects are few.
MIX = [
    nodegroup,
    nodegroup,
    bucket,
    sse,
    endpoint_config,
    alarm,
    quota,
    role,
    composite,
    composite,
    kustomization,
    cronjob,
    function,
    composition,
]


def objects(n: int) -> list[dict[str, Any]]:
    """`n` valid objects: one XRD first (so the XRs have a kind), then the mix in turn."""
    out = [xrd(0)]
    out.extend(MIX[i % len(MIX)](i) for i in range(n - 1))
    return out


def best_of(runs: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of `runs` timings of `fn` (the least disturbed by other work), and its result."""
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result
