"""Running the rules: the one evaluation both adapters (aiplane check, the CrossGuard pack) call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from pydantic import ValidationError

from aiplane.policy.config import RuleConfig, resolve
from aiplane.policy.context import Manifest, RuleContext, plain
from aiplane.policy.model import Finding, ResourceCheck, Rule, Violation
from aiplane.policy.registry import all_rules
from aiplane.policy.waivers import for_rule, today_utc, valid_waiver, waiver_field, waiver_problem, waivers_of
from aiplane.synthesis.sources import SourceMap
from aiplane.synthesis.waivers import Waiver


def _violation(
    rule: Rule, level: Any, finding: Finding, ctx: RuleContext, sources: SourceMap | None = None
) -> Violation:
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
        location=sources.locate(obj, finding.field) if sources else None,
        generated=sources.generated(obj) if sources else None,
    )


def error_text(err: Exception) -> str:
    """An exception as a reader should see it: pydantic's errors as `field: message`, without its URLs."""
    if isinstance(err, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else str(e["msg"])
            for e in err.errors(include_url=False)
        )
    return f"{type(err).__name__}: {err}"


def _raised(rule: Rule, obj: Manifest, err: Exception) -> Finding:
    # A rule that raises has not shown the object is fine: report it, never count it as a pass.
    return Finding(
        obj,
        f"rule could not be evaluated ({error_text(err)}); treated as a violation",
        fix="fix the object so the rule can read it, or the rule",
    )


def check_resource(rule: Rule, obj: Manifest, ctx: RuleContext) -> list[Finding]:
    """One rule's resource check on one object, judged alone: `ctx` must carry no other objects."""
    if rule.check is None or not rule.applies_to(obj):
        return []
    return _checked(rule, rule.check, obj, ctx)


def _checked(rule: Rule, check: ResourceCheck, obj: Manifest, ctx: RuleContext) -> list[Finding]:
    try:
        return list(check(obj, ctx))
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
    *,
    sources: SourceMap | None = None,
    today: date | None = None,
) -> list[Violation]:
    """Every enabled rule over every object it applies to, then the stack checks; stable order.
    Objects are copied to plain dicts and lists once here, so rules read plain data without copying.
    Waivers on the objects are honoured (aiplane.policy.waivers); `sources` locates each finding."""
    # Only non-dict inputs (read-only proxies) need the copy; rules never mutate what they read.
    objects = tuple(o if type(o) is dict else plain(o) for o in objects)
    today = today or today_utc()
    by_kind: dict[str, list[Manifest]] = {}
    waived: list[tuple[Manifest, list[Waiver]]] = []
    for obj in objects:
        by_kind.setdefault(str(obj.get("kind", "")), []).append(obj)
        found = waivers_of(obj, ctx)
        if found:
            waived.append((obj, found))
    out: list[Violation] = []
    for rule in rules if rules is not None else all_rules():
        fired: set[int] = set()
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
            # check_resource for each candidate, without a call per object to ask what the selection by kind
            # already answered: asked only for a group-qualified kind (`group/Kind`, which needs the object's
            # apiVersion) or a rule class with an applies_to of its own.
            check = rule.check
            ask = any("/" in k for k in rule.kinds) or type(rule).applies_to is not Rule.applies_to
            for obj in candidates:
                if check is None or (ask and not rule.applies_to(obj)):
                    continue
                findings = _checked(rule, check, obj, rule_ctx)
                if findings:  # most objects pass most rules
                    out += _judged(rule, resolved, findings, rule_ctx, sources, today, fired)
        # The stack part has its own config key when the rule also has a resource part (CrossGuard parity).
        stack_part = resolve(rule, config, stack=True)
        if stack_part.enforcement != "disabled":
            stack_ctx = replace(ctx, params=stack_part.params)
            findings = check_stack(rule, objects, stack_ctx)
            out += _judged(rule, stack_part, findings, stack_ctx, sources, today, fired)
        if resolved.enforcement != "disabled" or stack_part.enforcement != "disabled":
            part = resolved if resolved.enforcement != "disabled" else stack_part
            out += _waiver_reports(rule, part, waived, ctx, sources, today, fired)
    return sorted(out, key=lambda v: (v.environment, v.namespace, v.kind, v.name, v.rule, v.field, v.message))


def _judged(
    rule: Rule,
    part: RuleConfig,
    findings: list[Finding],
    ctx: RuleContext,
    sources: SourceMap | None,
    today: date,
    fired: set[int],
) -> list[Violation]:
    """The findings of one rule part as violations, each waived when its object has a valid waiver."""
    out = []
    for finding in findings:
        fired.add(id(finding.obj))
        violation = _violation(rule, part.enforcement, finding, ctx, sources)
        waiver = valid_waiver(finding.obj, rule.id, part, ctx, today)
        out.append(violation if waiver is None else replace(violation, status="waived", waiver=waiver))
    return out


def _waiver_reports(
    rule: Rule,
    part: RuleConfig,
    waived: list[tuple[Manifest, list[Waiver]]],
    ctx: RuleContext,
    sources: SourceMap | None,
    today: date,
    fired: set[int],
) -> list[Violation]:
    """A faulty waiver for this rule is a violation of the rule (at the waiver); a valid one for a rule that
    did not fire on its object is reported as unused."""
    out = []
    for obj, waivers in waived:
        for index, waiver in for_rule(waivers, rule.id):
            problem = waiver_problem(waiver, part, today)
            if problem is not None:
                finding = Finding(
                    obj, f"waiver {problem}", waiver_field(index), fix="correct or remove the waiver"
                )
                out.append(_violation(rule, part.enforcement, finding, ctx, sources))
            elif id(obj) not in fired:
                finding = Finding(
                    obj,
                    f"unused waiver: {rule.id} reports nothing on this object",
                    waiver_field(index),
                    fix="remove the waiver",
                )
                unused = _violation(rule, part.enforcement, finding, ctx, sources)
                out.append(replace(unused, status="unused-waiver", waiver=waiver))
    return out
