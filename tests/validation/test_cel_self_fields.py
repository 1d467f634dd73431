"""A rule that reads `self` only through field selections is evaluated on just those fields (celrules
._self_fields): converting a value to CEL is most of a rule's cost. The findings must be the very same as
on the whole value — checked on every synthesized object, every resource its Composition renders, and
XRs changed so that their rules fail (messages included)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aiplane.crossplane.render import render, select_composition
from aiplane.synthesis.pipeline import Synthesis
from aiplane.validation import SchemaRegistry, celrules, checker, validate_documents

COMMENTED = "self.a >= 0 // " + "'" * 3 + "\n&& size(self) <= 1 // " + "'" * 3


@pytest.mark.parametrize(
    ("rule", "fields"),
    [
        ("self.capacity == 'mixed' || !has(self.onDemandBaseSize)", {"capacity", "onDemandBaseSize"}),
        ("!('*' in self.managementPolicies) || has(self.forProvider.region)", {"managementPolicies", "forProvider"}),
        ("self.a.b.exists(x, x == 'self')", {"a"}),
        ("'self.b' == self.a", {"a"}),
        ("has(self.x)", {"x"}),
        ("true", set()),
        ("self.a == 'https://example.com'", {"a"}),  # `//` in a string is no comment
        ("self.a > 0 // not size(self)", {"a"}),  # a comment is no code
    ],
)
def test_rules_reading_fields_of_self_name_them(rule: str, fields: set[str]) -> None:
    assert celrules._self_fields(rule) == frozenset(fields)


@pytest.mark.parametrize(
    "rule",
    [
        "self == oldSelf",
        "size(self) > 0",
        "self.all(k, k != '')",
        "self.exists(x, x.a == 1)",
        "self['a'] == 1",
        "self",
        "other.self == 1",
        "self.a.all(self, self > 0)",  # a macro variable named self: not the field
        "self.a == 'unterminated",
        # A comment: the tokenizer would read ''' in two comments as one string hiding size(self).
        COMMENTED,
    ],
)
def test_rules_reading_self_otherwise_get_the_whole_value(rule: str) -> None:
    assert celrules._self_fields(rule) is None


def _findings(objects: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """Every finding, in a registry of its own (validate_documents registers the XRDs among the objects)."""
    report = validate_documents(objects, SchemaRegistry.default(), strict=True)
    return sorted((f.kind, f.name, f.severity.value, f.check, f.message, f.field) for f in report.findings)


def _failing_variants(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """XRs changed so that rules on their spec fail (the XRDs' own cross-field rules)."""
    out = []
    for obj in objects:
        if obj["kind"] == "GPUNodePool":
            mixed = copy.deepcopy(obj)
            mixed["spec"]["capacity"] = "mixed"
            mixed["spec"].pop("onDemandBaseSize", None)
            base = copy.deepcopy(obj)
            base["spec"]["capacity"] = "onDemand"
            base["spec"]["onDemandBaseSize"] = 1
            out += [mixed, base]
    return out


def test_the_findings_are_the_same_as_on_the_whole_value(
    synthesis: Synthesis, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = synthesis.objects()
    compositions = [o for o in objects if o["kind"] == "Composition"]
    xrs = [o for o in objects if "compositionRef" in (o.get("spec") or {}).get("crossplane", {})]
    composed = [r.obj for xr in xrs for r in render(xr, select_composition(xr, compositions))]
    variants = _failing_variants(objects)
    everything = [*objects, *composed, *variants]
    pruned = _findings(everything)
    assert any(f[3] == "cel" and f[2] == "error" for f in pruned), "the variants make rules fail"
    assert len(composed) > 50
    monkeypatch.setattr(celrules, "_as_read", lambda plan, value: value)
    assert _findings(everything) == pruned


def test_rules_on_composed_resources_read_few_fields(synthesis: Synthesis) -> None:
    """The provider CRDs' rules (`has(self.forProvider.x)` under management policies) read a handful of a
    spec's fields; otherwise the pruning would buy nothing where it matters."""
    objects = synthesis.objects()
    reg = SchemaRegistry.default()
    validate_documents(objects, reg, strict=True)  # registers the synthesized XRDs
    plans = []
    for obj in objects:
        ks = reg.lookup(obj["apiVersion"], obj["kind"])
        compiled = checker.compile_kind(ks) if ks is not None else None
        if compiled is not None and compiled.rules is not None:
            plans += _located(compiled.rules)
    reads = [plan.self_reads for plan in plans]
    assert reads and sum(1 for f in reads if f is not None) >= len(reads) // 2


def _located(plan: celrules.RulePlan) -> list[celrules.RulePlan]:
    """Every plan below `plan` (itself included) that holds rules."""
    below = [plan] if plan.rules else []
    for _, child in plan.props:
        below += _located(child)
    for child in (plan.items, plan.values):
        if child is not None:
            below += _located(child)
    return below


def _one_rule(rule: dict) -> dict:
    return {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "x-kubernetes-validations": [rule]}


@pytest.mark.parametrize(
    ("value", "message"),
    [({"a": 0, "namespace": "n"}, "got 2 fields"), ({"a": 0, "b": {"c": 1}, "d": [1]}, "got 3 fields")],
)
def test_a_failing_rules_message_expression_sees_the_whole_value(value: dict, message: str) -> None:
    schema = _one_rule({"rule": "self.a > 0", "messageExpression": "'got ' + string(size(self)) + ' fields'"})
    out: list = []
    celrules.check_rules(celrules.build_rule_plan(schema), value, [], out)
    assert [(o[1], o[2]) for o in out] == [("cel", message)]


def test_a_commented_rule_is_judged_on_the_whole_value() -> None:
    out: list = []
    celrules.check_rules(celrules.build_rule_plan(_one_rule({"rule": COMMENTED})), {"a": 0, "b": 1}, [], out)
    assert [o[1] for o in out] == ["cel"]
