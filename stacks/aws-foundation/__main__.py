"""Pulumi program of the AWS foundation stack; the logic lives in foundation_stack.py so tests can run it."""

import pulumi
from foundation_stack import deploy

config = pulumi.Config("aiplane")
deploy(
    config.require("environment"),
    provider_identity=config.get("providerIdentity") or "pod-identity",
    oidc_provider_arn=config.get("oidcProviderArn"),
    service_accounts=config.get_object("providerServiceAccounts"),
    activate_cost_allocation_tags=config.get_bool("activateCostAllocationTags") is not False,
)
