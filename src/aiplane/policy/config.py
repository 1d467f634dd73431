"""The policy config, in the format `pulumi --policy-pack-config` reads, shared by both adapters:
`{"all": <level>, "<rule>": "<level>" | {"enforcementLevel": <level>, <param>: <value>, ...}}`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiplane.errors import InputError
from aiplane.policy.model import Enforcement, Rule

LEVELS: tuple[Enforcement, ...] = ("mandatory", "advisory", "disabled")
DEFAULT_CONFIG = Path("policypacks") / "aiplane-guardrails" / "policy-config.json"
# A rule with both a resource and a stack check is two CrossGuard policies; the Pulumi CLI configures
# policies by name, so the stack part has its own key `<rule>-environment` here too (parity).
STACK_SUFFIX = "-environment"


def config_key(rule: Rule, stack: bool) -> str:
    """The config key (and CrossGuard policy name) of one part of a rule."""
    return rule.id + STACK_SUFFIX if stack and rule.check is not None else rule.id


@dataclass(frozen=True)
class RuleConfig:
    enforcement: Enforcement
    params: Mapping[str, Any]


def resolve(rule: Rule, config: Mapping[str, Any], stack: bool = False) -> RuleConfig:
    """A rule part's enforcement and parameters: rule defaults, then `all`, then its own entry
    (`<rule>`, or `<rule>-environment` for the stack part of a rule that also has a resource check)."""
    level: Any = rule.enforcement
    if isinstance(config.get("all"), str):
        level = config["all"]
    elif isinstance(config.get("all"), Mapping) and "enforcementLevel" in config["all"]:
        level = config["all"]["enforcementLevel"]
    entry = config.get(config_key(rule, stack))
    params = dict(rule.params)
    if isinstance(entry, str):
        level = entry
    elif isinstance(entry, Mapping):
        level = entry.get("enforcementLevel", level)
        params.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
    if level not in LEVELS:
        raise InputError.single(
            "policy config", f"{rule.id}: enforcementLevel {level!r} is not one of {', '.join(LEVELS)}"
        )
    return RuleConfig(level, params)


def load_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError.single(str(path), f"cannot read: {err}") from None
    except json.JSONDecodeError as err:
        raise InputError.single(
            str(path), f"invalid JSON: {err.msg}", line=err.lineno, column=err.colno
        ) from None
    if not isinstance(data, dict):
        raise InputError.single(str(path), "the policy config must be a JSON object")
    return data


def check_known(config: Mapping[str, Any], rules: tuple[Rule, ...], source: str) -> None:
    """Unknown rule ids or parameters in the config are mistakes, not silently ignored settings."""
    by_id = {config_key(r, stack): r for r in rules for stack in (False, True)}
    problems = []
    for key, value in config.items():
        if key == "all":
            continue
        if key not in by_id:
            problems.append(f"unknown rule {key!r}")
        elif isinstance(value, Mapping):
            unknown = sorted(set(value) - {"enforcementLevel"} - set(by_id[key].params))
            if unknown:
                problems.append(f"{key}: unknown parameter(s) {', '.join(unknown)}")
    if problems:
        raise InputError([InputError.single(source, p).problems[0] for p in problems])
