"""Guardrails: one rule set, enforced before Git (`aiplane check`) and at `pulumi preview/up` (CrossGuard).

    from aiplane.policy import run_rules, default_context, load_policy_config
    ctx = default_context(settings)                  # catalog, platform APIs, CRD schemas
    violations = run_rules(manifests, ctx, load_policy_config(settings))

`manifests` are plain Kubernetes objects (dicts or read-only mappings); non-Kubernetes resources
(pulumi-aws) are passed as `{"pulumiType": token, "kind": token, "metadata": {"name": n}, "properties": props}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiplane.catalog import load_catalog
from aiplane.discovery import discover
from aiplane.environment_record import EnvironmentRecord
from aiplane.policy.config import DEFAULT_CONFIG, load_config, resolve
from aiplane.policy.context import RuleContext
from aiplane.policy.engine import check_resource, check_stack, run_rules
from aiplane.policy.model import Finding, Rule, Violation
from aiplane.policy.registry import all_rules
from aiplane.project import Settings
from aiplane.validation import SchemaRegistry

__all__ = [
    "EnvironmentRecord",
    "Finding",
    "Rule",
    "RuleContext",
    "Violation",
    "all_rules",
    "check_resource",
    "check_stack",
    "default_context",
    "load_policy_config",
    "resolve",
    "run_rules",
]


def default_context(settings: Settings) -> RuleContext:
    project = discover(settings)
    return RuleContext(
        settings=settings,
        apis=project.apis,
        catalog=load_catalog(),
        registry=SchemaRegistry.default(extra=list(settings.crds)),
    )


def load_policy_config(settings: Settings, path: Path | None = None) -> dict[str, Any]:
    """The policy config (default: the pack's policy-config.json); missing default file → rule defaults."""
    config_path = path or settings.root / DEFAULT_CONFIG
    if path is None and not config_path.exists():
        return {}
    return load_config(config_path)
