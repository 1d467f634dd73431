"""Observe-only Subnet objects: how an environment's node pools find their subnets.

A NodeGroup's `subnetIdSelector` is resolved by the provider among `ec2.aws.m.upbound.io` Subnet objects in
the NodeGroup's own namespace (provider-upjet-aws v2.6.0 `apis/namespaced/eks/v1beta1/zz_generated.resolvers.go`;
reference crossplane.md §13). The subnets already exist (the cluster's VPC), so aiplane writes one Subnet per
declared ID with `managementPolicies: ["Observe"]` and the ID as external name: the provider reads it, never
creates, changes or deletes it, and the selector then finds it by its labels.
"""

from __future__ import annotations

from typing import Any

from aiplane.project import MANAGED_BY

SUBNET_API_VERSION = "ec2.aws.m.upbound.io/v1beta1"
SUBNET_KIND = "Subnet"


def observed_subnet(
    subnet_id: str, labels: dict[str, str], namespace: str, region: str, provider_config: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": SUBNET_API_VERSION,
        "kind": SUBNET_KIND,
        "metadata": {
            "name": subnet_id,
            "namespace": namespace,
            "labels": {**MANAGED_BY, **labels},
            "annotations": {"crossplane.io/external-name": subnet_id},
        },
        "spec": {
            "managementPolicies": ["Observe"],
            "forProvider": {"region": region},
            "providerConfigRef": dict(provider_config),
        },
    }
