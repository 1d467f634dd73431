"""Each environment's own AWS ProviderConfig, in its namespace.

provider-upjet-aws v2's namespaced managed resources resolve `providerConfigRef {kind: ProviderConfig, name}`
in their own namespace, and `{kind: ClusterProviderConfig}` cluster-wide. A ClusterProviderConfig is usable
from any namespace — any team that can create a managed resource anywhere in the cluster could spend the
platform's AWS credentials. So aiplane ships none: every environment namespace gets a namespaced
ProviderConfig (default name `aiplane`), and only XRs and MRs in an environment's namespace can use it.

Credentials come from EKS Pod Identity (the provider pods' service accounts, associated with the role
stacks/aws-foundation creates): no secret in Git. An environment that sets
`providerConfigRef.kind: ClusterProviderConfig` brings its own cluster config and gets none written.
"""

from __future__ import annotations

from typing import Any

from aiplane.project import MANAGED_BY

PROVIDER_CONFIG_API_VERSION = "aws.m.upbound.io/v1beta1"


def environment_provider_config(namespace: str, ref: dict[str, str]) -> dict[str, Any] | None:
    """The ProviderConfig the environment's XRs name, or None when they name a ClusterProviderConfig."""
    if ref.get("kind") != "ProviderConfig":
        return None
    return {
        "apiVersion": PROVIDER_CONFIG_API_VERSION,
        "kind": "ProviderConfig",
        "metadata": {"name": ref["name"], "namespace": namespace, "labels": dict(MANAGED_BY)},
        "spec": {"credentials": {"source": "PodIdentity"}},
    }
