"""No CEL rule runs unbounded: a rule whose estimated cost exceeds Kubernetes' per-rule limit, or a CRD
whose rules together exceed the per-CRD limit, is refused as the API server refuses such a CRD; a rule
that would cost more than the per-call limit on the actual value is refused instead of evaluated. Each
refusal is an error (never a pass), and the CLI ends in seconds under a memory and CPU limit."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.validation import SchemaRegistry, Severity, validate_object
from aiplane.validation.celcost import (
    PER_CALL_LIMIT,
    STATIC_ESTIMATED_COST_LIMIT,
    CostParseError,
    runtime_estimate,
    static_estimate,
    tokenize,
)
from aiplane.validation.celrules import build_rule_plan
from aiplane.validation.registry import crd_kind_schemas
from aiplane.validation.xr_schema import xr_kind_schemas

CRDS = Path(__file__).resolve().parents[2] / "src" / "aiplane" / "data" / "crds"

DIGITS = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"


def crd(spec_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.test.aiplane.io"},
        "spec": {
            "group": "test.aiplane.io",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                               "metadata": {"type": "object"}, "spec": spec_schema}}}}],
        },
    }


def widget(spec: Any) -> dict[str, Any]:
    return {"apiVersion": "test.aiplane.io/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "ns"},
            "spec": spec}


def nested(depth: int, receiver: str = "self.items") -> str:
    """`receiver.all(v0, receiver.all(v1, ... v0 + v1 + ... >= 0))`: size^depth iterations."""
    names = [f"v{i}" for i in range(depth)]
    body = " + ".join(names) + " >= 0"
    for name in reversed(names):
        body = f"{receiver}.all({name}, {body})"
    return body


def list_schema(rules: list[str], max_items: int | None = None) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "array", "items": {"type": "integer"}}
    if max_items is not None:
        items["maxItems"] = max_items
    return {"type": "object", "properties": {"items": items},
            "x-kubernetes-validations": [{"rule": r} for r in rules]}


def findings(spec_schema: dict[str, Any], spec: Any) -> list[Any]:
    reg = SchemaRegistry(shipped=False)
    reg.add_crd(crd(spec_schema))
    return validate_object(widget(spec), reg)


def refused(found: list[Any]) -> list[Any]:
    return [f for f in found if f.check == "cel-cost" and f.severity is Severity.ERROR]


@settings(max_examples=20, deadline=None)
@given(depth=st.integers(2, 8), n=st.integers(0, 50))
def test_a_rule_over_an_unbounded_list_nested_beyond_the_limit_is_refused(depth: int, n: int) -> None:
    rule = nested(depth)
    assert static_estimate(rule, list_schema([rule])) > STATIC_ESTIMATED_COST_LIMIT
    start = time.monotonic()
    found = findings(list_schema([rule]), {"items": list(range(n))})
    assert time.monotonic() - start < 5
    assert [f.message.split(":")[0] for f in refused(found)] == ["rule refused"], found
    assert "per-rule limit 10,000,000" in refused(found)[0].message


@settings(max_examples=10, deadline=None)
@given(depth=st.integers(8, 20))
def test_a_rule_that_iterates_literal_lists_beyond_the_limit_is_refused(depth: int) -> None:
    rule = nested(depth, DIGITS)
    found = findings(list_schema([rule], max_items=3), {"items": [1]})
    assert len(refused(found)) == 1


@settings(max_examples=15, deadline=None)
@given(depth=st.integers(3, 6), n=st.integers(200, 2000))
def test_a_value_larger_than_its_schema_allows_cannot_make_a_rule_run_unbounded(depth: int, n: int) -> None:
    """maxItems keeps the static estimate small; an object that breaks maxItems still gets no unbounded run."""
    rule = nested(depth)
    schema = list_schema([rule], max_items=5)
    assert static_estimate(rule, schema) * 1 <= STATIC_ESTIMATED_COST_LIMIT
    value = {"items": list(range(n))}
    assert runtime_estimate(rule, value) > PER_CALL_LIMIT
    start = time.monotonic()
    found = findings(schema, value)
    assert time.monotonic() - start < 5
    assert any("per-call limit 1,000,000" in f.message for f in refused(found)), found
    assert any(f.check == "schema" for f in found)  # and maxItems itself is reported


@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 5), depth=st.integers(1, 2))
def test_rules_within_the_limits_are_still_evaluated(n: int, depth: int) -> None:
    rule = nested(depth) + " && self.items.all(x, x < 3)"
    found = findings(list_schema([rule], max_items=5), {"items": list(range(n))})
    assert refused(found) == []
    assert [f.check for f in found if f.severity is Severity.ERROR] == (["cel"] if n > 3 else [])


def test_a_rule_nested_too_deeply_to_estimate_never_runs() -> None:
    rule = nested(600, "[1]")
    with pytest.raises(CostParseError):
        static_estimate(rule, {"type": "object"})
    found = findings(list_schema([rule], max_items=3), {"items": [1]})
    assert [f.severity for f in found if f.check.startswith("cel")] in ([Severity.ERROR], [Severity.NOT_EVALUATED])
    assert not any(f.check == "cel" and f.severity is Severity.ERROR and "failed rule" in f.message for f in found)


def test_rules_that_together_exceed_the_per_crd_limit_are_all_refused() -> None:
    # Each rule alone is under the per-rule limit; thirty of them are over the per-CRD limit.
    rules = [f"self.items.all(x, x >= {i})" for i in range(30)]
    schema = list_schema(rules)
    assert all(static_estimate(rule, schema) <= STATIC_ESTIMATED_COST_LIMIT for rule in rules)
    found = refused(findings(schema, {"items": [1, 2]}))
    assert len(found) == 30 and all("per-CRD limit 100,000,000" in f.message for f in found)
    # Ten of them are fine and evaluated.
    assert refused(findings(list_schema(rules[:10]), {"items": [1, 2]})) == []


def test_no_rule_of_the_shipped_crds_or_platform_xrds_is_refused(synthesis: Any) -> None:
    kinds = []
    for path in sorted(CRDS.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                kinds += crd_kind_schemas(doc, str(path))
    for obj in synthesis.objects():
        if obj["kind"] == "CompositeResourceDefinition":
            kinds += xr_kind_schemas(obj, "<synthesis>")
    assert len(kinds) > 50
    refused_rules = []
    for ks in kinds:
        plan = build_rule_plan(ks.schema)
        stack = [plan] if plan is not None else []
        while stack:
            p = stack.pop()
            refused_rules += [(ks.kind, r.refused) for r in p.rules if r.refused]
            stack += [c for _, c in p.props] + [c for c in (p.items, p.values) if c is not None]
    assert refused_rules == []


def _limit_memory_and_cpu() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))
    resource.setrlimit(resource.RLIMIT_CPU, (60, 60))


def test_the_cli_refuses_a_pathological_rule_within_a_memory_and_cpu_limit(tmp_path: Path) -> None:
    """Unbounded, `validate` would evaluate 2000^4 iterations (hours) — under the rlimit it would be
    killed; bounded, it answers in seconds with the refusal and exit 1."""
    rule = nested(4)
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "widget.yaml").write_text(yaml.safe_dump(crd(list_schema([rule], max_items=5))))
    (tmp_path / "widget.yaml").write_text(yaml.safe_dump(widget({"items": list(range(2000))})))
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "aiplane.cli", "validate", "--crds", str(tmp_path / "crds"),
         str(tmp_path / "widget.yaml")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, preexec_fn=_limit_memory_and_cpu,
        check=False,
    )
    assert time.monotonic() - start < 60
    assert result.returncode == 1, result.stdout + result.stderr
    assert "rule refused: estimated cost" in result.stdout
    assert "Traceback" not in result.stderr


QUOTES = "'" * 3


@pytest.mark.parametrize(
    ("rule", "tokens"),
    [
        ("self.a > 0 // it's fine", ("self", ".", "a", ">", "0")),
        (f"self.a // {QUOTES}\n&& size(self) // {QUOTES}", ("self", ".", "a", "&&", "size", "(", "self", ")")),
        ("self.url == 'https://x' // c", ("self", ".", "url", "==", "'https://x'")),
    ],
)
def test_comments_are_not_code(rule: str, tokens: tuple[str, ...]) -> None:
    """CEL's `//` line comments: the estimates (and the field analysis of celrules) read the code only, so a
    quote in a comment can no longer make a rule unreadable or hide the code after it."""
    assert tokenize(rule) == tokens


def test_a_commented_rule_is_estimated_as_its_code() -> None:
    node = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert static_estimate("self.a > 0 // it's fine", node) == static_estimate("self.a > 0", node)
