"""Running the rules: the one evaluation both adapters (aiplane check, the CrossGuard pack) call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from aiplane.policy.config import resolve
from aiplane.policy.context import Manifest, RuleContext, plain
from aiplane.policy.model import Finding, Rule, Violation
from aiplane.policy.registry import all_rules


def _violation(rule: Rule, level: Any, finding: Finding, ctx: RuleContext) -> Violation:
    obj = finding.obj
    meta = obj.get("metadata") or {}
    return Violation(
        rule=rule.id,
        message=finding.message,
        enforcement=level,
        severity=rule.severity,
        fix=finding.fix or rule.fix,
        api_version=str(obj.get("apiVersion", "")),
        kind=str(obj.get("kind", "")),
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        environment=ctx.environment_name(obj),
        field=finding.field,
    )


def _raised(rule: Rule, obj: Manifest, err: Exception) -> Finding:
    # A rule that raises has not shown the object is fine: report it, never count it as a pass.
    return Finding(
        obj,
        f"rule could not be evaluated ({type(err).__name__}: {err}); treated as a violation",
        fix="fix the object so the rule can read it, or the rule",
    )


def check_resource(rule: Rule, obj: Manifest, ctx: RuleContext) -> list[Finding]:
    """One rule's resource check on one object, judged alone: `ctx` must carry no other objects."""
    if rule.check is None or not rule.applies_to(obj):
        return []
    try:
        return list(rule.check(obj, ctx))
    except Exception as err:
        return [_raised(rule, obj, err)]


def check_stack(rule: Rule, objects: Sequence[Manifest], ctx: RuleContext) -> list[Finding]:
    if rule.stack_check is None:
        return []
    try:
        frozen = objects if isinstance(objects, tuple) else tuple(objects)  # one tuple per run: caches key on it
        return list(rule.stack_check(list(frozen), replace(ctx, objects=frozen)))
    except Exception as err:
        return [_raised(rule, {"kind": "Stack", "metadata": {"name": "stack"}}, err)]


def run_rules(
    objects: Sequence[Manifest],
    ctx: RuleContext,
    config: Mapping[str, Any],
    rules: Iterable[Rule] | None = None,
) -> list[Violation]:
    """Every enabled rule over every object it applies to, then the stack checks; stable order.
    Objects are copied to plain dicts and lists once here, so rules read plain data without copying."""
    # Only non-dict inputs (read-only proxies) need the copy; rules never mutate what they read.
    objects = tuple(o if type(o) is dict else plain(o) for o in objects)
    by_kind: dict[str, list[Manifest]] = {}
    for obj in objects:
        by_kind.setdefault(str(obj.get("kind", "")), []).append(obj)
    out: list[Violation] = []
    for rule in rules if rules is not None else all_rules():
        resolved = resolve(rule, config)
        if resolved.enforcement != "disabled":
            rule_ctx = replace(ctx, params=resolved.params, objects=())
            candidates = (
                objects
                if "*" in rule.kinds
                else [
                    o
                    for kind in dict.fromkeys(k.rsplit("/", 1)[-1] for k in rule.kinds)
                    for o in by_kind.get(kind, [])
                ]
            )
            for obj in candidates:
                findings = check_resource(rule, obj, rule_ctx)
                out += [_violation(rule, resolved.enforcement, f, rule_ctx) for f in findings]
        # The stack part has its own config key when the rule also has a resource part (CrossGuard parity).
        stack_part = resolve(rule, config, stack=True)
        if stack_part.enforcement != "disabled":
            stack_ctx = replace(ctx, params=stack_part.params)
            findings = check_stack(rule, objects, stack_ctx)
            out += [_violation(rule, stack_part.enforcement, f, stack_ctx) for f in findings]
    return sorted(out, key=lambda v: (v.environment, v.namespace, v.kind, v.name, v.rule, v.field, v.message))
