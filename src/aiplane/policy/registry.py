"""Rules register themselves: every module of aiplane.policy.rules defines `RULE`, and installed packages
add theirs through the `aiplane.policy_rules` entry point group. Dropping a module in is all it takes."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from aiplane.policy.model import Rule
from aiplane.project import entry_points

ENTRY_POINT_GROUP = "aiplane.policy_rules"


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every registered rule, ordered by id; ids are unique."""
    from aiplane.policy import rules as package

    found: dict[str, Rule] = {}

    def add(rule: object, origin: str) -> None:
        if not isinstance(rule, Rule):
            raise TypeError(f"{origin}: RULE must be an aiplane.policy.model.Rule")
        if rule.id in found:
            raise ValueError(f"{origin}: rule id {rule.id!r} is registered twice")
        if rule.id == "all":
            raise ValueError(f"{origin}: 'all' is reserved by the policy config format")
        found[rule.id] = rule

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if hasattr(module, "RULE"):
            add(module.RULE, module.__name__)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        add(ep.load(), f"entry point {ep.name}")
    return tuple(found[k] for k in sorted(found))
