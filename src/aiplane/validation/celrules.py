"""`x-kubernetes-validations` CEL rules: compiled once per process, evaluated where the schema puts them.

Kubernetes binds `self` to the value at the rule's schema location (each element for array `items`,
each value for `additionalProperties`) and skips absent or null values. Transition rules (`oldSelf`) need
the previous object, which offline validation does not have: they are reported as skipped. A rule the
CEL library cannot compile or evaluate is reported as not evaluated, never as passed.

No rule runs unbounded (the CEL library has no cost limit of its own): as the Kubernetes API server does
(see celcost), a rule whose estimated cost exceeds the per-expression limit, or all rules of a CRD whose
rules together exceed the per-CRD limit, are refused before any object is judged; at run time a rule
whose cost on the actual value would exceed the per-call limit, or an object whose rules together would
exceed the per-request budget, is refused instead of evaluated. A refusal is an error, as Kubernetes
refuses the CRD or the request.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from aiplane.validation.celcost import (
    PER_CALL_LIMIT,
    RUNTIME_COST_BUDGET,
    STATIC_ESTIMATED_COST_LIMIT,
    STATIC_ESTIMATED_CRD_COST_LIMIT,
    CostParseError,
    SchemaShape,
    WholeValue,
    cardinality,
    is_ident,
    runtime_estimate,
    static_estimate,
    tokenize,
)
from aiplane.validation.celengine import EXTENSIONS, cel
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
    # True when the cost can grow with the data (checked against the per-call limit before each run).
    data_dependent: bool = True
    # The fields of `self` the rule reads, when it reads `self` only through them (see _self_fields).
    self_fields: frozenset[str] | None = None


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
    return _Program(
        program, None, "oldSelf" in program.variables(), functions, _data_dependent(expression),
        _self_fields(expression),
    )


# What can make a rule's cost grow with the data: iteration, membership, traversing strings or lists.
_DATA_DEPENDENT = frozenset({"in", "==", "!=", "+", "all", "exists", "exists_one", "existsOne", "map",
                             "filter", "transformList", "transformMap", "transformMapEntry", "sortBy"})


def _data_dependent(expression: str) -> bool:
    try:
        tokens = tokenize(expression)
    except CostParseError:
        return True
    return any(t in _DATA_DEPENDENT for t in tokens) or (len(tokens) > 1 and any(
        tokens[i] == "." and tokens[i + 2 : i + 3] == ("(",) for i in range(len(tokens) - 2)
    ))


def _self_fields(expression: str) -> frozenset[str] | None:
    """The fields of `self` the expression reads, when every `self` in it is followed by a field selection
    (`self.f`, `has(self.f)`, `self.f.g[0]`); None when it reads `self` any other way — as a whole, by
    index, as a macro's receiver (`self.all(…)`), or a token it cannot read. Converting a value to CEL costs
    about a microsecond per node, and a rule on a whole spec usually reads two of its fields: evaluating on
    just those fields gives the same result for a fraction of the conversion. Comments are not code (the
    tokenizer drops them), so a `self` in one is not a read."""
    try:
        tokens = tokenize(expression)
    except CostParseError:
        return None
    fields: set[str] = set()
    for i, token in enumerate(tokens):
        if token != "self":
            continue
        name = tokens[i + 2] if i + 2 < len(tokens) else ""
        after = tokens[i + 3] if i + 3 < len(tokens) else ""
        if (i and tokens[i - 1] == ".") or tokens[i + 1 : i + 2] != (".",) or not is_ident(name) or after == "(":
            return None
        fields.add(name)
    return frozenset(fields)



def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


@dataclass(frozen=True)
class Rule:
    """One x-kubernetes-validations entry."""

    rule: str
    message: str | None
    message_expression: str | None
    field_path: tuple[str | int, ...]
    # Why the rule is refused before any object is judged (its estimated cost), as Kubernetes refuses
    # the CRD; None when it may run.
    refused: str | None = None

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
    # Set on a schema's root plan: every rule's cost on any value the schema admits stays within the per-call
    # limit and all of them together within the object's runtime budget (from the static estimates, which
    # bound the runtime ones: tests/validation/test_cel_cost_bounds.py), so an object that passed the schema
    # needs no runtime estimate at all.
    within_runtime_limits: bool = False

    @cached_property
    def self_reads(self) -> frozenset[str] | None:
        """The fields of `self` the rules evaluated on the shared context read (not the escaped ones, which get
        their own), or None when one of them reads `self` another way (see _self_fields). Worked out on first
        use; not part of the plan's value (no field: the CRD cache and comparisons ignore it)."""
        each = [
            rule.compiled.self_fields
            for rule in self.rules
            if "__" not in rule.rule and rule.refused is None
            and not rule.compiled.transition and rule.compiled.error is None
        ]
        return None if None in each else frozenset().union(*(f for f in each if f is not None))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _static_cost(rule: str, node: Any, runs: int) -> tuple[int, str | None]:
    """(estimated cost × how often the rule runs, why it is refused or None), as Kubernetes computes
    at CRD creation."""
    try:
        cost = static_estimate(rule, node)
    except CostParseError:
        return 0, None  # the CEL library cannot compile it either: reported as not compiled
    total = cost * runs
    if total > STATIC_ESTIMATED_COST_LIMIT:
        return total, (
            f"rule refused: estimated cost {_figure(total)} exceeds the Kubernetes per-rule limit "
            f"{_figure(STATIC_ESTIMATED_COST_LIMIT)} (bound the lists and strings it walks with maxItems, "
            f"maxProperties, maxLength): {rule}"
        )
    return total, None


def _figure(cost: int) -> str:
    return f"{cost:,}" if cost < 10**15 else "over 10^15"


def build_rule_plan(node: Any) -> RulePlan | None:
    """The plan for a schema (one CRD version), or None when nothing below it carries rules or list-map
    keys. Rules over the per-rule cost limit are refused; when the rules together exceed the per-CRD
    limit every rule is refused, as Kubernetes refuses the whole CRD."""
    # [static total as Kubernetes sums it, bound of the runtime costs together, bound of one call]
    total = [0, 0, 0]
    memo: dict[int, bool] = {}
    plan = _build(node, 1, total, memo) if _carries_rules(node, memo) else None
    if plan is not None and total[0] > STATIC_ESTIMATED_CRD_COST_LIMIT:
        reason = (
            f"rule refused: the CRD's rules together have estimated cost {_figure(total[0])}, over the "
            f"Kubernetes per-CRD limit {_figure(STATIC_ESTIMATED_CRD_COST_LIMIT)}"
        )
        return _refuse_all(plan, reason)
    if plan is not None and total[1] <= RUNTIME_COST_BUDGET and total[2] <= PER_CALL_LIMIT:
        plan = dataclasses.replace(plan, within_runtime_limits=True)
    return plan


def rule_plan_to_json(plan: RulePlan | None) -> Any:
    """A plan as JSON data (the compiled form cached beside the shipped CRDs, aiplane.validation.crdcache):
    the static cost estimates and refusals are kept, the compiled programs are rebuilt on load."""
    if plan is None:
        return None
    return {
        "rules": [
            [r.rule, r.message, r.message_expression, list(r.field_path), r.refused] for r in plan.rules
        ],
        "listMapKeys": list(plan.list_map_keys),
        "props": [[name, rule_plan_to_json(sub)] for name, sub in plan.props],
        "items": rule_plan_to_json(plan.items),
        "values": rule_plan_to_json(plan.values),
        "withinRuntimeLimits": plan.within_runtime_limits,
    }


def rule_plan_from_json(data: Any) -> RulePlan | None:
    """The plan `rule_plan_to_json` wrote, with its rules compiled."""
    if data is None:
        return None
    rules = tuple(Rule(r[0], r[1], r[2], tuple(r[3]), r[4]) for r in data["rules"])
    return RulePlan(
        rules,
        tuple(data["listMapKeys"]),
        tuple((name, plan) for name, sub in data["props"] if (plan := rule_plan_from_json(sub)) is not None),
        rule_plan_from_json(data["items"]),
        rule_plan_from_json(data["values"]),
        _functions(rules),
        bool(data["withinRuntimeLimits"]),
    )


def _functions(rules: tuple[Rule, ...]) -> dict[str, Callable[..., Any]]:
    """The extension functions the rules (and their message expressions) call."""
    functions: dict[str, Callable[..., Any]] = {}
    for rule in rules:
        functions.update(rule.compiled.functions)
        if rule.message_expression:
            functions.update(_compile(rule.message_expression).functions)
    return functions


def _refuse_all(plan: RulePlan, reason: str) -> RulePlan:
    return RulePlan(
        tuple(r if r.refused else dataclasses.replace(r, refused=f"{reason}: {r.rule}") for r in plan.rules),
        plan.list_map_keys,
        tuple((name, _refuse_all(sub, reason)) for name, sub in plan.props),
        _refuse_all(plan.items, reason) if plan.items else None,
        _refuse_all(plan.values, reason) if plan.values else None,
        plan.functions,
    )


def _carries_rules(node: Any, memo: dict[int, bool]) -> bool:
    """Whether `node` or a schema below it has rules or list-map keys: `_build` returns None for every other
    subtree and adds nothing to the cost, so it need not walk them (most of a provider CRD: the cardinality
    estimates on the way down were most of the time a check spent compiling). `memo` (id -> answer, for one
    schema that stays alive while it is used) keeps the walk linear however deep `_build` descends."""
    if not isinstance(node, dict):
        return False
    key = id(node)
    if key in memo:
        return memo[key]
    properties = node.get("properties")
    found = (
        bool(node.get("x-kubernetes-validations"))
        or node.get("x-kubernetes-list-type") == "map"
        or any(_carries_rules(sub, memo) for sub in (properties.values() if isinstance(properties, dict) else ()))
        or _carries_rules(node.get("items"), memo)
        or _carries_rules(node.get("additionalProperties"), memo)
    )
    memo[key] = found
    return found


def _build(node: Any, runs: int, total: list[int], memo: dict[int, bool]) -> RulePlan | None:
    """The plan for a schema node; `runs` is how often a rule here runs (the sizes of the lists and
    maps above it), `total` accumulates the CRD's estimated cost."""
    if not isinstance(node, dict):
        return None
    entries = node.get("x-kubernetes-validations")
    rules = []
    for v in entries if isinstance(entries, list) else ():
        if not (isinstance(v, dict) and isinstance(v.get("rule"), str)):
            continue
        message_expression = _text(v.get("messageExpression"))
        cost, refused = _static_cost(v["rule"], node, runs)
        # What _evaluate charges at runtime: the estimate (bounded by the static one) or the rule's length.
        total[1] = min(10**15, total[1] + max(cost, len(v["rule"]) * runs))
        total[2] = max(total[2], cost // runs, len(v["rule"]))
        if message_expression:
            # Kubernetes adds messageExpression's cost to the CRD total, without the cardinality
            cost += _static_cost(message_expression, node, 1)[0]
        total[0] = min(10**15, total[0] + cost)
        rules.append(
            Rule(v["rule"], _text(v.get("message")), message_expression,
                 parse_field_path(_text(v.get("fieldPath")) or ""), refused)
        )
    keys: tuple[str, ...] = ()
    map_keys = node.get("x-kubernetes-list-map-keys")
    if node.get("x-kubernetes-list-type") == "map" and isinstance(map_keys, list):
        keys = tuple(str(k) for k in map_keys)
    properties = node.get("properties")
    props = tuple(
        (name, plan)
        for name, sub in (properties.items() if isinstance(properties, dict) else ())
        if _carries_rules(sub, memo) and (plan := _build(sub, runs, total, memo)) is not None
    )
    items_node, values_node = node.get("items"), node.get("additionalProperties")
    items = values = None
    if _carries_rules(items_node, memo):
        items = _build(items_node, cardinality([runs, SchemaShape(node).size()], items_node), total, memo)
    if _carries_rules(values_node, memo):
        values = _build(values_node, cardinality([runs, SchemaShape(node).size()], values_node), total, memo)
    if not (rules or keys or props or items or values):
        return None
    return RulePlan(tuple(rules), keys, props, items, values, _functions(tuple(rules)))


def check_rules(
    plan: RulePlan,
    value: Any,
    path: list[str | int],
    out: list[Outcome],
    budget: list[int] | None = None,
    estimate: bool = True,
) -> None:
    """Evaluate every rule of `plan` on `value` (a defaulted object), appending outcomes to `out`.
    `budget` is what is left of the object's runtime cost budget (one per top-level call). `estimate`:
    False skips the runtime cost estimates, for a value the schema admits under a plan
    `within_runtime_limits` (no rule can then be refused for its cost)."""
    if value is None:
        return
    if budget is None:
        budget = [RUNTIME_COST_BUDGET]
    if plan.rules:
        _evaluate(plan, value, tuple(path), out, budget, estimate)
    if plan.list_map_keys and isinstance(value, list):
        _check_list_map(plan.list_map_keys, value, tuple(path), out)
    if isinstance(value, dict):
        for name, child in plan.props:
            sub = value.get(name)
            if sub is not None:
                path.append(name)
                check_rules(child, sub, path, out, budget, estimate)
                path.pop()
        if plan.values is not None:
            for key, sub in value.items():
                path.append(key)
                check_rules(plan.values, sub, path, out, budget, estimate)
                path.pop()
    elif isinstance(value, list) and plan.items is not None:
        for index, sub in enumerate(value):
            path.append(index)
            check_rules(plan.items, sub, path, out, budget, estimate)
            path.pop()


# CEL reserved words: a schema property with one of these names is reached in a rule as `__<name>__`
# (k8s.io/apiextensions-apiserver pkg/apiserver/schema/cel/model/escaping.go), e.g. the provider's
# `has(self.forProvider.__namespace__)`.
_CEL_RESERVED = frozenset(
    {"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if",
     "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"}
)


def _escaped(value: Any) -> Any:
    """The value with each property named by a CEL reserved word also reachable by its escaped name."""
    if isinstance(value, dict):
        out = {k: _escaped(v) for k, v in value.items()}
        for key in [k for k in value if k in _CEL_RESERVED]:
            out.setdefault(f"__{key}__", out[key])
        return out
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value


def _evaluate(
    plan: RulePlan,
    value: Any,
    path: tuple[str | int, ...],
    out: list[Outcome],
    budget: list[int],
    estimate: bool = True,
) -> None:
    # One context per location, made only if a rule runs: the value is converted to CEL once and shared.
    context: Any = None
    whole: WholeValue | None = None
    for rule in plan.rules:
        if rule.refused is not None:
            out.append((Severity.ERROR, "cel-cost", rule.refused, path))
            continue
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
        cost = len(rule.rule)
        if compiled.data_dependent and estimate:
            if whole is None:
                whole = WholeValue(value)
            try:
                cost = runtime_estimate(rule.rule, value, whole)
            except CostParseError:
                cost = PER_CALL_LIMIT + 1  # unreadable yet compiled: no bound known, so no run
        if cost > PER_CALL_LIMIT or cost > budget[0]:
            limit = (
                f"the Kubernetes per-call limit {PER_CALL_LIMIT:,}"
                if cost > PER_CALL_LIMIT
                else f"what is left of the object's budget {RUNTIME_COST_BUDGET:,}"
            )
            out.append((Severity.ERROR, "cel-cost",
                        f"rule refused: estimated cost {_figure(cost)} on this value exceeds {limit}: {rule.rule}",
                        path))
            continue
        budget[0] -= cost
        try:
            if "__" in rule.rule:  # names an escaped property: evaluate on the escaped value
                result = compiled.program.execute(
                    cel.Context(variables={"self": _escaped(value)}, functions=plan.functions))
            else:
                if context is None:
                    context = cel.Context(variables={"self": _as_read(plan, value)}, functions=plan.functions)
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
        out.append((Severity.ERROR, "cel", _message(rule, value, plan), path + rule.field_path))


def _as_read(plan: RulePlan, value: Any) -> Any:
    """The part of `value` the plan's rules read, so only that is converted to CEL."""
    fields = plan.self_reads
    if fields is None or type(value) is not dict:
        return value
    return {name: value[name] for name in fields if name in value}


def _message(rule: Rule, value: Any, plan: RulePlan) -> str:
    """messageExpression's result, else message, else Kubernetes' own "failed rule: <rule>"."""
    if rule.message_expression:
        compiled = _compile(rule.message_expression)
        if compiled.program is not None:
            try:
                # The value the rule itself was evaluated on, whole (an escaped rule's, escaped).
                whole = _escaped(value) if "__" in rule.rule else value
                context = cel.Context(variables={"self": whole}, functions=plan.functions)
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
