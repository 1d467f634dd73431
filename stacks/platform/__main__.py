"""Pulumi program of the platform stack; the logic lives in platform_stack.py so tests can run it."""

import pulumi
from platform_stack import deploy

config = pulumi.Config("aiplane")
deploy(config.require("environment"), kube_context=config.get("kubeContext"))
