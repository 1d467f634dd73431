"""Which engines should `aiplane validate` use? jsonschema vs jsonschema-rs, cel-python vs
common-expression-language, measured on the shipped CRDs in one process.

Schema: the NodeGroup (eks.aws.m.upbound.io/v1beta1) schema converted as aiplane converts it, compiled
once, then valid and invalid NodeGroups validated. CEL: every x-kubernetes-validations rule in the
shipped CRDs compiled by both engines (how many compile), and the provider's CEL "required parameter"
rule evaluated on a NodeGroup's spec the way the validator does it (value conversion included).

    .venv/bin/python benchmarks/engines.py [--n 5000]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cel
import celpy
import jsonschema
import jsonschema_rs
from _workload import nodegroup
from cel.stdlib import add_stdlib_to_context

from aiplane.validation import SchemaRegistry
from aiplane.validation.checker import _metadata_schemas
from aiplane.validation.openapi import convert_root
from aiplane.validation.registry import _shipped_crd_index, _shipped_crd_versions

RULE = (
    "!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in "
    "self.managementPolicies) || has(self.forProvider.scalingConfig) || (has(self.initProvider) && "
    "has(self.initProvider.scalingConfig))"
)


def per_call_us(n: int, fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def schema_engines(n: int) -> None:
    ks = SchemaRegistry.default().lookup("eks.aws.m.upbound.io/v1beta1", "NodeGroup")
    assert ks is not None
    top, embedded = _metadata_schemas(False)
    schema = convert_root(ks.schema, top, embedded)
    good = nodegroup(1)
    good["spec"]["managementPolicies"] = ["*"]
    bad = copy.deepcopy(good)
    bad["spec"]["forProvider"]["scalingConfig"]["maxSize"] = "four"
    bad["spec"]["forProvider"]["bogus"] = True
    py_s, py = timed(lambda: jsonschema.Draft202012Validator(schema))
    rs_s, rs = timed(lambda: jsonschema_rs.Draft202012Validator(schema))
    assert py.is_valid(good) and rs.is_valid(good) and not py.is_valid(bad) and not rs.is_valid(bad)
    print(f"{'schema (NodeGroup)':<28} {'compile':>10} {'valid obj':>12} {'invalid obj':>12}")
    for name, secs, valid, invalid in (
        ("jsonschema 4.26", py_s, lambda: py.is_valid(good), lambda: list(py.iter_errors(bad))),
        ("jsonschema-rs 0.61", rs_s, lambda: rs.is_valid(good), lambda: list(rs.iter_errors(bad))),
    ):
        valid_us, invalid_us = per_call_us(n, valid), per_call_us(n, invalid)
        print(f"  {name:<26} {secs * 1e3:7.2f} ms {valid_us:9.1f} us {invalid_us:9.1f} us")


def shipped_rules() -> Iterator[str]:
    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for v in node.get("x-kubernetes-validations") or ():
                yield v["rule"]
            for sub in node.values():
                yield from walk(sub)
        elif isinstance(node, list):
            for sub in node:
                yield from walk(sub)

    for group, kind in _shipped_crd_index():
        for ks in _shipped_crd_versions(group, kind).values():
            yield from walk(ks.schema)


def cel_engines(n: int) -> None:
    rules = sorted(set(shipped_rules()))
    transition = [r for r in rules if "oldSelf" in r]
    env = celpy.Environment()
    py_ok = rs_ok = 0
    for rule in rules:
        try:
            env.program(env.compile(rule))
            py_ok += 1
        except Exception:
            pass
        try:
            cel.compile(rule)
            rs_ok += 1
        except Exception:
            pass
    # lowerAscii (XRD/MRD names) is a Kubernetes string-library function: does each engine evaluate it?
    names = {"plural": "gpunodepools"}
    lower = "self.plural == self.plural.lowerAscii()"
    try:
        env.program(env.compile(lower)).evaluate({"self": celpy.json_to_cel(names)})
        py_lower = "yes"
    except Exception as err:
        py_lower = f"no ({type(err).__name__})"
    ctx = cel.Context(variables={"self": names})
    add_stdlib_to_context(ctx)
    rs_lower = "yes" if cel.compile(lower).execute(ctx) is True else "no"

    spec = nodegroup(1)["spec"]
    spec["managementPolicies"] = ["*"]
    py_prog = env.program(env.compile(RULE))
    rs_prog = cel.compile(RULE)
    assert bool(py_prog.evaluate({"self": celpy.json_to_cel(spec)})) is True
    assert rs_prog.execute({"self": spec}) is True
    py_eval = per_call_us(n, lambda: py_prog.evaluate({"self": celpy.json_to_cel(spec)}))
    rs_eval = per_call_us(n, lambda: rs_prog.execute(cel.Context(variables={"self": spec})))
    small = {"managementPolicies": ["*"], "forProvider": {"scalingConfig": {"maxSize": 1}}}
    rs_small = per_call_us(n, lambda: rs_prog.execute(cel.Context(variables={"self": small})))
    py_compile = per_call_us(50, lambda: env.program(env.compile(RULE)))
    rs_compile = per_call_us(50, lambda: cel.compile(RULE))
    print(f"CEL: {len(rules)} distinct rules in the shipped CRDs, {len(transition)} of them transition rules")
    print(f"{'engine':<28} {'compiled':>9} {'lowerAscii':>17} {'compile':>10} {'eval (spec)':>12}")
    for name, ok, lower_ok, compile_us, eval_us in (
        ("cel-python 0.5", py_ok, py_lower, py_compile, py_eval),
        ("common-expression-language", rs_ok, rs_lower, rs_compile, rs_eval),
    ):
        print(f"  {name:<26} {ok:>4}/{len(rules):<4} {lower_ok:>17} {compile_us:7.0f} us {eval_us:9.1f} us")
    print(f"  (common-expression-language: {rs_small:.1f} us when self holds only the fields the rule reads)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=5000, help="evaluations per measurement")
    args = parser.parse_args()
    schema_engines(args.n)
    cel_engines(args.n)


if __name__ == "__main__":
    main()
