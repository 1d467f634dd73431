"""`x-kubernetes-validations` CEL rules: compiled once per process, evaluated where the schema puts them.

Kubernetes binds `self` to the value at the rule's schema location (each element for array `items`,
each value for `additionalProperties`) and skips absent or null values. Transition rules (`oldSelf`) need
the previous object, which offline validation does not have: they are reported as skipped. A rule the
CEL library cannot compile or evaluate is reported as not evaluated, never as passed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import cel
from cel.stdlib import EXTENSIONS

from aiplane.validation.findings import TRANSITION_CHECK, Severity

# (severity, check, message, field segments): what the object checker turns into Findings.
Outcome = tuple[Severity, str, str, tuple[str | int, ...]]

# The library logs a warning when an extension function raises; the rule is reported as not evaluated
# anyway, so keep the CLI's stderr clean unless the application configures logging itself.
logging.getLogger("cel").addHandler(logging.NullHandler())

_STDLIB: dict[str, Callable[..., Any]] = {name: fn for lib in EXTENSIONS.values() for name, fn in lib.items()}


@dataclass(frozen=True)
class _Program:
    program: Any = None
    error: str | None = None
    transition: bool = False
    functions: tuple[tuple[str, Callable[..., Any]], ...] = ()


@cache
def _compile(expression: str) -> _Program:
    """Compile one CEL expression; the cache makes each rule text compile once per process."""
    try:
        program = cel.compile(expression)
    except Exception as err:  # the library raises ValueError, but any failure means "cannot compile"
        return _Program(error=_one_line(err), transition="oldSelf" in expression)
    used = set(program.functions())
    # The extension library registers Python functions; pass only those a rule calls (they cost per call).
    functions = tuple(
        (name, fn) for name, fn in _STDLIB.items() if name in used or name.rsplit(".", 1)[-1] in used
    )
    return _Program(program, None, "oldSelf" in program.variables(), functions)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


@dataclass(frozen=True)
class Rule:
    """One x-kubernetes-validations entry."""

    rule: str
    message: str | None
    message_expression: str | None
    field_path: tuple[str | int, ...]

    @property
    def compiled(self) -> _Program:
        return _compile(self.rule)


_FIELD_PATH_TOKEN = re.compile(r"\.([A-Za-z_$][\w$-]*)|\[\s*'((?:[^'\\]|\\.)*)'\s*\]|\[(\d+)\]")


def parse_field_path(text: str) -> tuple[str | int, ...]:
    """A rule's `fieldPath` (`.spec.x`, `.labels['a.b/c']`, `.items[0]`) as path segments."""
    out: list[str | int] = []
    for match in _FIELD_PATH_TOKEN.finditer(text or ""):
        name, quoted, index = match.groups()
        out.append(int(index) if index is not None else (name if name is not None else quoted))
    return tuple(out)


@dataclass(frozen=True)
class RulePlan:
    """Where rules live below one schema node; list-map keys are checked for uniqueness here too."""

    rules: tuple[Rule, ...] = ()
    list_map_keys: tuple[str, ...] = ()
    props: tuple[tuple[str, RulePlan], ...] = ()
    items: RulePlan | None = None
    values: RulePlan | None = None
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict, compare=False)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def build_rule_plan(node: Any) -> RulePlan | None:
    """The plan for a schema node, or None when nothing below it carries rules or list-map keys."""
    if not isinstance(node, dict):
        return None
    entries = node.get("x-kubernetes-validations")
    rules = tuple(
        Rule(
            v["rule"],
            _text(v.get("message")),
            _text(v.get("messageExpression")),
            parse_field_path(_text(v.get("fieldPath")) or ""),
        )
        for v in (entries if isinstance(entries, list) else ())
        if isinstance(v, dict) and isinstance(v.get("rule"), str)
    )
    keys: tuple[str, ...] = ()
    map_keys = node.get("x-kubernetes-list-map-keys")
    if node.get("x-kubernetes-list-type") == "map" and isinstance(map_keys, list):
        keys = tuple(str(k) for k in map_keys)
    properties = node.get("properties")
    props = tuple(
        (name, plan)
        for name, sub in (properties.items() if isinstance(properties, dict) else ())
        if (plan := build_rule_plan(sub)) is not None
    )
    items = build_rule_plan(node.get("items"))
    values = build_rule_plan(node.get("additionalProperties"))
    if not (rules or keys or props or items or values):
        return None
    functions: dict[str, Callable[..., Any]] = {}
    for rule in rules:
        functions.update(rule.compiled.functions)
        if rule.message_expression:
            functions.update(_compile(rule.message_expression).functions)
    return RulePlan(rules, keys, props, items, values, functions)


def check_rules(plan: RulePlan, value: Any, path: list[str | int], out: list[Outcome]) -> None:
    """Evaluate every rule of `plan` on `value` (a defaulted object), appending outcomes to `out`."""
    if value is None:
        return
    if plan.rules:
        _evaluate(plan, value, tuple(path), out)
    if plan.list_map_keys and isinstance(value, list):
        _check_list_map(plan.list_map_keys, value, tuple(path), out)
    if isinstance(value, dict):
        for name, child in plan.props:
            sub = value.get(name)
            if sub is not None:
                path.append(name)
                check_rules(child, sub, path, out)
                path.pop()
        if plan.values is not None:
            for key, sub in value.items():
                path.append(key)
                check_rules(plan.values, sub, path, out)
                path.pop()
    elif isinstance(value, list) and plan.items is not None:
        for index, sub in enumerate(value):
            path.append(index)
            check_rules(plan.items, sub, path, out)
            path.pop()


def _evaluate(plan: RulePlan, value: Any, path: tuple[str | int, ...], out: list[Outcome]) -> None:
    # One context per location, made only if a rule runs: the value is converted to CEL once and shared.
    context: Any = None
    for rule in plan.rules:
        compiled = rule.compiled
        if compiled.transition:
            out.append(
                (
                    Severity.SKIPPED,
                    TRANSITION_CHECK,
                    f"transition rule needs the previous object (oldSelf), not checked offline: {rule.rule}",
                    path,
                )
            )
            continue
        if compiled.error is not None:
            out.append(
                (
                    Severity.NOT_EVALUATED,
                    "cel",
                    f"rule cannot be compiled ({compiled.error}): {rule.rule}",
                    path,
                )
            )
            continue
        try:
            if context is None:
                context = cel.Context(variables={"self": value}, functions=plan.functions)
            result = compiled.program.execute(context)
        except Exception as err:  # any evaluation failure is reported, never counted as a pass
            out.append(
                (
                    Severity.NOT_EVALUATED,
                    "cel",
                    f"rule cannot be evaluated ({_one_line(err)}): {rule.rule}",
                    path,
                )
            )
            continue
        if result is True:
            continue
        if result is not False:
            out.append(
                (Severity.NOT_EVALUATED, "cel", f"rule returned {result!r}, not a bool: {rule.rule}", path)
            )
            continue
        out.append((Severity.ERROR, "cel", _message(rule, context), path + rule.field_path))


def _message(rule: Rule, context: Any) -> str:
    """messageExpression's result, else message, else Kubernetes' own "failed rule: <rule>"."""
    if rule.message_expression:
        compiled = _compile(rule.message_expression)
        if compiled.program is not None:
            try:
                text = compiled.program.execute(context)
            except Exception:  # Kubernetes falls back to `message` when messageExpression fails
                text = None
            if isinstance(text, str) and text.strip():
                return text
    return rule.message or f"failed rule: {rule.rule}"


def _check_list_map(
    keys: tuple[str, ...], items: list[Any], path: tuple[str | int, ...], out: list[Outcome]
) -> None:
    """`x-kubernetes-list-type: map` items must be unique by their keys (e.g. pipeline steps by `step`)."""
    seen: dict[tuple[str, ...], int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        key = tuple(repr(item.get(k)) for k in keys)
        if key in seen:
            shown = ", ".join(f"{k}={item.get(k)!r}" for k in keys)
            out.append(
                (
                    Severity.ERROR,
                    "schema",
                    f"duplicate entry ({shown}); first at index {seen[key]}",
                    (*path, index),
                )
            )
        else:
            seen[key] = index
