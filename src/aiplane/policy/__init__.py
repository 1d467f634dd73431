"""Guardrails: one rule set, enforced before Git (`aiplane check`) and at `pulumi preview/up` (CrossGuard).
The rules (rules/, one per module, registered by registry), their shape (model), what they read (context),
their configuration (config), the one evaluation both adapters call (engine), the reports of `aiplane check`
(report) and the CrossGuard adapter (crossguard); callers start from `default_context(settings)`,
`load_policy_config(settings)` and `run_rules(manifests, ctx, config)` re-exported here. Rules judge plain
manifests, so they sit above the synthesis whose output they read. May import: `aiplane`,
`aiplane.authoring`, `aiplane.catalog`, `aiplane.crossplane`, `aiplane.errors`, `aiplane.ethics`,
`aiplane.function`,
`aiplane.project`, `aiplane.synthesis`, `aiplane.validation`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiplane.policy.config import DEFAULT_CONFIG, load_config, resolve
from aiplane.policy.context import RuleContext
from aiplane.policy.engine import check_resource, check_stack, run_rules
from aiplane.policy.model import Finding, Rule, Violation
from aiplane.policy.registry import all_rules
from aiplane.project import Settings
from aiplane.synthesis.discovery import discover
from aiplane.synthesis.environment_record import EnvironmentRecord
from aiplane.validation import SchemaRegistry

if TYPE_CHECKING:
    from aiplane.synthesis.pipeline import Synthesis

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


def default_context(settings: Settings, synthesis: Synthesis | None = None) -> RuleContext:
    """The context rules run in; given the synthesis the objects come from, the rules reuse the XR specs it
    validated instead of validating them again (RuleContext.known_specs), and the costs it priced
    (RuleContext.known_costs)."""
    project = discover(settings)
    return RuleContext(
        settings=settings,
        apis=project.apis,
        catalog=project.catalog,
        registry=SchemaRegistry.default(extra=list(settings.crds)),
        known_specs=synthesis.validated_specs() if synthesis is not None else {},
        # Priced with the synthesis's catalog: reused only when the rules price with the same one.
        known_costs=synthesis.known_costs()
        if synthesis is not None and synthesis.project.catalog is project.catalog
        else {},
    )


def load_policy_config(settings: Settings, path: Path | None = None) -> dict[str, Any]:
    """The policy config (default: the pack's policy-config.json); missing default file → rule defaults."""
    config_path = path or settings.root / DEFAULT_CONFIG
    if path is None and not config_path.exists():
        return {}
    return load_config(config_path)
