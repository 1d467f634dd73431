"""How much do the guardrail rules add to validation in `aiplane check`?

Two workloads of 1,000 and 10,000 objects, each size and workload in fresh processes of its own:

- **as `aiplane check` runs them** (the goal's figure): projects whose environments hold as many items as
  it takes (benchmarks/scale.py's prod, repeated; 5,000 items at most per environment, each environment
  its own account, since an account's quotas cap one environment long before 10,000), synthesized, then
  exactly what `aiplane check` does after synthesis — `validate_documents(strict, failing_only)` with the context's
  registry, and `run_rules` in `default_context(settings, synthesis)`, which reuses the XR specs the
  synthesis validated.
- **foreign objects** (reported beside it): the synthesized platform plus each shipped environment cloned
  into new namespaces with renamed XRs, with no synthesis behind them — what `check --manifests` and the
  CrossGuard pack see — so every XR spec is validated again by its model.

Timed in the same process:
  validate  validate_documents(strict, failing_only): schema + CEL + Composition/P&T + XRD checks
  rules     run_rules with the shipped policy config (every rule, resource and stack checks)
Goal: rules/validate <= 0.5 (the rules add at most 50 % on top of validation), cold: the first validation
in the process (every kind compiled on first use) and the rules once with a fresh context, with the CLI's
garbage-collector setting (aiplane.cli.collect_rarely). A cold figure is one measurement per process, so each
size and workload runs in --processes fresh processes (each prints its line) and the goal's figure is the
median of their ratios. Warm figures (best of --runs) are printed beside. The objects are verified to be valid and without blocking findings
first, so no rule short-circuits.

    .venv/bin/python benchmarks/check.py [--sizes 1000 10000] [--runs 3] [--processes 3]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale
from _workload import best_of

from aiplane.cli import collect_rarely
from aiplane.ethics.gate import GATE_REPORTS
from aiplane.policy import default_context, load_policy_config, run_rules
from aiplane.project import Settings, load_settings
from aiplane.synthesis.pipeline import synthesize
from aiplane.validation import SchemaRegistry, validate_documents

ENV_LABEL = "aiplane.io/environment"


def clone_environment(env_objects: list[dict[str, Any]], copy_no: int) -> list[dict[str, Any]]:
    """One environment's objects in namespace `<ns>-c<copy_no>`, XRs renamed `<name>-c<copy_no>`."""
    out = []
    suffix = f"-c{copy_no}"
    for original in env_objects:
        obj = copy.deepcopy(original)
        meta = obj["metadata"]
        if obj["kind"] == "Namespace":
            meta["name"] += suffix
        else:
            meta["namespace"] += suffix
            if obj["kind"] != "ConfigMap":
                meta["name"] += suffix
        if ENV_LABEL in (meta.get("labels") or {}):
            meta["labels"][ENV_LABEL] += suffix
        if obj["kind"] == "ConfigMap":
            obj["data"]["environment"] += suffix
            # Quotas are per account: each copy is its own account, as separate environments would be.
            obj["data"]["accountId"] = f"{(int(obj['data']['accountId']) + copy_no) % 10**12:012d}"
        if "bucketRef" in obj.get("spec", {}):
            obj["spec"]["bucketRef"]["name"] += suffix
        out.append(obj)
    return out


def workload(n: int, platform: list[dict[str, Any]], environments: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    objects = list(platform)
    copy_no = 0
    while len(objects) < n:
        for env_objects in environments:
            objects += clone_environment(env_objects, copy_no)
        copy_no += 1
    # Each environment lists its Namespace, record and quotas before the pools and endpoints, so a cut
    # never leaves an XR without its record or a pool without its quota.
    return objects[:n]


ITEMS_PER_ENVIRONMENT = 5000  # below what one account's quotas allow for scale.py's prod


def synthesized_project(root: Path, n: int) -> Settings:
    """A project under `root` whose synthesis holds about `n` objects: environments prod, prod-2, … of
    scale.py's prod, each its own account (prod's endpoints need no gate report: none blocks promotion)."""
    scale.project_without_environments(root)
    items_left = n - len(_platform_objects())
    number = 1
    while items_left > 0:
        items = min(items_left, ITEMS_PER_ENVIRONMENT)
        env = scale.environment(items)
        name = "prod" if number == 1 else f"prod-{number}"
        env.update(name=name, namespace=f"ai-{name}", clusterName=f"ai-{name}",
                   accountId=f"{int(env['accountId']) + number:012d}")
        (root / "environments" / f"{name}.yaml").write_text(yaml.safe_dump(env), encoding="utf-8")
        items_left -= items + 20  # the environment's own objects: namespace, record, quotas, subnets
        number += 1
    return load_settings(root)


def _platform_objects() -> list[dict[str, Any]]:
    return [m.obj for m in synthesize(load_settings()).manifests if m.path.startswith("platform/")]


def measure_synthesized(n: int, runs: int) -> tuple[float, float]:
    """Prints the figures; returns the cold ones (validation, rules)."""
    with tempfile.TemporaryDirectory(prefix="aiplane-bench-") as tmp:
        settings = synthesized_project(Path(tmp), n)
        synthesis = synthesize(settings)
        objects = synthesis.objects()
        config = load_policy_config(settings)
        # As commands/check.py's judge: the context of this synthesis, validation with its registry.
        ctx = default_context(settings, synthesis)
        validate_cold, report = timed(lambda: validate_documents(objects, ctx.registry, strict=True, failing_only=True))
        rules_cold, found = timed(lambda: run_rules(objects, default_context(settings, synthesis), config))
        _require_clean(report, found)
        validate_s, _ = best_of(runs, lambda: validate_documents(objects, ctx.registry, strict=True, failing_only=True))
        rules_s, _ = best_of(runs, lambda: run_rules(objects, ctx, config))
        _print("as `aiplane check` runs them", objects, ctx, (validate_cold, rules_cold), (validate_s, rules_s), runs)
        return validate_cold, rules_cold


def _require_clean(report: Any, found: Any) -> None:
    invalid = [f for f in report.findings if f.fails(strict=True)]
    blocking = [v for v in found if v.blocking]
    if invalid or blocking:
        raise SystemExit(f"benchmark objects are not clean: {len(invalid)} invalid, {len(blocking)} violations: "
                         f"{(invalid + blocking)[:3]}")


def _print(label: str, objects: list[dict[str, Any]], ctx: Any, cold: tuple[float, float],
           warm: tuple[float, float], runs: int) -> None:
    xrs = sum(1 for o in objects if ctx.api_of(o) is not None)
    namespaces = sum(1 for o in objects if o["kind"] == "Namespace")
    print(f"{len(objects):>6} objects ({xrs} XRs, {namespaces} namespaces), {label}\n"
          f"         cold: validate {cold[0]:6.3f} s  rules {cold[1]:6.3f} s  rules/validate {cold[1] / cold[0]:4.2f}   "
          f"warm (best of {runs}): validate {warm[0]:6.3f} s  rules {warm[1]:6.3f} s  "
          f"rules/validate {warm[1] / warm[0]:4.2f}")


def cloned_gate_reports(root: Path, copies: int) -> None:
    """The committed ethics gate reports under `root`/ethics-reports, once per clone: a copy's endpoint runs
    the same image and model in environment `<env>-c<k>` as `<endpoint>-c<k>`, and the `ethics-gate-passed`
    rule wants a passing report naming exactly that."""
    source = load_settings().root / GATE_REPORTS
    for path in sorted(source.glob("*/*/*.json")):
        report = json.loads(path.read_text(encoding="utf-8"))
        for copy_no in range(copies):
            suffix = f"-c{copy_no}"
            clone = {**report, "environment": report["environment"] + suffix, "endpoint": report["endpoint"] + suffix}
            target = root / GATE_REPORTS / clone["environment"] / clone["endpoint"] / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(clone), encoding="utf-8")


def measure(n: int, runs: int, base: tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]) -> tuple[float, float]:
    """Prints the figures; returns the cold ones (validation, rules)."""
    reports = tempfile.TemporaryDirectory(prefix="aiplane-bench-")
    # Same settings, but the project root (where the gate reports live) holds a report per cloned endpoint.
    settings = dataclasses.replace(load_settings(), root=Path(reports.name))
    cloned_gate_reports(settings.root, n // 10 + 1)
    ctx = default_context(settings)
    config = load_policy_config(settings)
    objects = workload(n, *base)

    def validate() -> Any:
        return validate_documents(objects, SchemaRegistry.default(extra=list(settings.crds)), strict=True, failing_only=True)

    def rules() -> Any:
        return run_rules(objects, ctx, config)

    # Cold, as the CLI runs them: the first validation in this process (kinds compiled on first use), and
    # the rules with a fresh context (nothing parsed yet), once each.
    validate_cold, report = timed(validate)
    rules_cold, found = timed(lambda: run_rules(objects, default_context(settings), config))
    _require_clean(report, found)
    validate_s, _ = best_of(runs, validate)
    rules_s, _ = best_of(runs, rules)
    _print("foreign objects (as check --manifests and the CrossGuard pack see them)", objects, ctx,
           (validate_cold, rules_cold), (validate_s, rules_s), runs)
    return validate_cold, rules_cold


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def cold_in_processes(n: int, workload_name: str, runs: int, processes: int) -> None:
    """Each size and workload in fresh processes, so "cold" means cold for every one; a cold figure is one
    measurement per process, so the goal's figure is the median over `processes` of them."""
    ratios, validations, rules = [], [], []
    with tempfile.TemporaryDirectory(prefix="aiplane-bench-") as tmp:
        figures = Path(tmp) / "figures.json"
        for _ in range(processes):
            figures.unlink(missing_ok=True)  # a process that wrote none fails below, instead of reusing the last
            subprocess.run([sys.executable, __file__, "--one", str(n), "--workload", workload_name,
                            "--runs", str(runs), "--figures", str(figures)], check=True)
            cold = json.loads(figures.read_text(encoding="utf-8"))
            validations.append(cold["validate"])
            rules.append(cold["rules"])
            ratios.append(cold["rules"] / cold["validate"])
    print(f"         cold, median of {processes} processes: validate {statistics.median(validations):6.3f} s  "
          f"rules {statistics.median(rules):6.3f} s  rules/validate {statistics.median(ratios):4.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--processes", type=int, default=3, help="fresh processes per size and workload")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workload", choices=["synthesized", "foreign"], help=argparse.SUPPRESS)
    parser.add_argument("--figures", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is None:
        for n in args.sizes:
            for workload_name in ("synthesized", "foreign"):
                cold_in_processes(n, workload_name, args.runs, args.processes)
        return
    collect_rarely()  # the garbage collector as the CLI runs commands
    if args.workload == "synthesized":
        cold = measure_synthesized(args.one, args.runs)
    else:
        settings = load_settings()
        synthesis = synthesize(settings)
        platform = [m.obj for m in synthesis.manifests if m.path.startswith("platform/")]
        environments = [[m.obj for m in synthesis.manifests if m.path.startswith(f"environments/{e.settings.name}/")]
                        for e in synthesis.environments]
        cold = measure(args.one, args.runs, (platform, environments))
    if args.figures is not None:  # for the parent (cold_in_processes)
        args.figures.write_text(json.dumps({"validate": cold[0], "rules": cold[1]}), encoding="utf-8")


if __name__ == "__main__":
    main()
