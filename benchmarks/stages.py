"""Where `aiplane check` spends its time, stage by stage, as the CLI runs it: at 10 and at 5,000 environment
items (the projects of benchmarks/scale.py), and `check --manifests` on the shipped repository (the run
benchmarks/checkov.py compares with Checkov).

Each run is a fresh process that runs the real console script (`aiplane.cli.console`, quick exit included)
with the command's stage functions wrapped in timers; the stages are timed where the command calls them, so
the command does the same work, with two differences: a clock read around each call, and the modules holding
the stages imported before the command starts (the synthesis pipeline, which `check` imports when it
synthesizes, so its import cost shows under "imports", and under the garbage collector's default setting,
not the command's). A stage with parts has a row "the rest of" it: its time outside them. Garbage collection
is timed through gc.callbacks after the imports and reported as one total, whichever stage it interrupted. A
figure is the median over --runs runs, the 10- and 5,000-item checks taking turns (the order alternating,
so neither always follows the other); "interpreter start and exit" is the wall time seen from outside minus
what the process timed itself.

It then does the arithmetic of the goal "5,000 items within 3× the 10-item check": what the 5,000 items may
cost beyond the 10, what they cost, and the ratio if any one stage cost nothing more at 5,000 items than at
10. Stage names follow the code: a stage that no longer exists fails the run, and --json records how often
each was called (tests/test_benchmark_stages.py runs a small case and checks that every stage was).

    .venv/bin/python benchmarks/stages.py [--items 10 5000] [--runs 5] [--manifests-only] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli import ENV, ROOT, taking_turns  # the same fresh-process setting as every benchmark
from scale import write_project  # the same projects as the scale benchmark

# (module, function, label, depth): depth 1 is a stage of `check`, depth 2 a part of the stage above it, and
# so on. The synthesis stages exist only when check synthesizes (not with --manifests, which never imports them).
Stage = tuple[str, str, str, int]
SYNTHESIS_STAGES: list[Stage] = [
    ("aiplane.synthesis.pipeline", "synthesize", "synthesizing in memory", 1),
    ("aiplane.synthesis.pipeline", "discover", "discovering the APIs and compositions", 2),
    ("aiplane.synthesis.pipeline", "build_platform", "building the platform objects", 2),
    ("aiplane.synthesis.pipeline", "load_environments", "loading the environment files", 2),
    ("aiplane.synthesis.environment", "load_yaml", "reading their YAML", 3),
    ("aiplane.synthesis.pipeline", "environment_objects", "building the XRs", 2),
    ("aiplane.synthesis.pipeline", "package_plain", "putting them in cdk8s's returned form", 2),
    ("aiplane.commands.check", "build_source_map", "mapping objects to their source lines", 1),
]
MANIFEST_STAGES: list[Stage] = [("aiplane.commands.check", "gather", "reading manifests/", 1)]
COMMON_STAGES: list[Stage] = [
    ("aiplane.commands.check", "default_context", "the rules' context (catalog, registry)", 1),
    ("aiplane.commands.check", "_refuse_unknown_waived_rules", "checking that waivers name known rules", 1),
    ("aiplane.commands.check", "validate_documents", "validating against the CRDs and XRDs", 1),
    ("aiplane.validation.checker", "compile_kind", "compiling each kind's schema", 2),
    ("aiplane.commands.check", "run_rules", "running the rules", 1),
]
SCALE_STAGES = SYNTHESIS_STAGES + COMMON_STAGES
MANIFEST_RUN_STAGES = MANIFEST_STAGES + COMMON_STAGES
WALL, START, IMPORTS = "wall", "interpreter start and exit", "imports before the command runs"
ELSE, GC = "everything else (click, settings, the report)", "garbage collection, within the above"

# The child: import what the command imports, wrap the stages, run the console script; an atexit handler
# (which the quick exit runs) writes the figures. argv: output file, stages as JSON, then the command line.
CHILD = r"""
import time
START = time.perf_counter()
import atexit, gc, importlib, json, sys
out, stages, argv = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
modules = {m: importlib.import_module(m) for m, _, _, _ in stages}
import aiplane.cli
imported = time.perf_counter()
spent = {label: 0.0 for _, _, label, _ in stages}
calls = {label: 0 for _, _, label, _ in stages}
collecting = {"seconds": 0.0, "since": 0.0}
def on_gc(phase, info):
    if phase == "start":
        collecting["since"] = time.perf_counter()
    else:
        collecting["seconds"] += time.perf_counter() - collecting["since"]
gc.callbacks.append(on_gc)
def timed(function, label):
    def wrapper(*args, **kwargs):
        calls[label] += 1
        begun = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - begun
    return wrapper
for module, name, label, _ in stages:
    setattr(modules[module], name, timed(getattr(modules[module], name), label))
def report():
    figures = {"elapsed": time.perf_counter() - START, "imports": imported - START,
               "gc": collecting["seconds"], "stages": spent, "calls": calls}
    with open(out, "w") as f:
        json.dump(figures, f)
atexit.register(report)
sys.argv = ["aiplane", *argv]
aiplane.cli.console()
"""


class Row(NamedTuple):
    label: str
    depth: int
    # For a row "the rest of" a stage: the stage's label and its parts' (its time minus theirs).
    rest_of: tuple[str, tuple[str, ...]] | None = None


def rows(stages: list[Stage]) -> list[Row]:
    """The rows in the order printed: the stages, each stage with parts followed by "the rest of" it, then
    the figures around them."""
    out = [Row(WALL, 1), Row(START, 1), Row(IMPORTS, 1)]
    open_parents: list[tuple[Stage, list[str]]] = []  # each with the labels of its parts so far
    for index, (_, _, label, depth) in enumerate(stages):
        if open_parents and depth == open_parents[-1][0][3] + 1:
            open_parents[-1][1].append(label)
        out.append(Row(label, depth))
        following = stages[index + 1][3] if index + 1 < len(stages) else 0
        if following > depth:
            open_parents.append((stages[index], []))
        while open_parents and following <= open_parents[-1][0][3]:
            (_, _, parent, parent_depth), parts = open_parents.pop()
            out.append(Row(f"the rest of {parent}", parent_depth + 1, (parent, tuple(parts))))
    return [*out, Row(ELSE, 1), Row(GC, 1)]


def measure(cases: list[tuple[list[str], Path]], stages: list[Stage], runs: int) -> list[dict[str, Any]]:
    """For each (command line, folder): the median seconds of every row (see rows) over `runs` fresh
    processes, the cases taking turns (cli.taking_turns), and how many times each stage was called."""
    samples: list[dict[str, list[float]]] = [{} for _ in cases]
    calls: list[dict[str, int]] = [{} for _ in cases]
    with tempfile.TemporaryDirectory(prefix="aiplane-stages-") as tmp:
        out = Path(tmp) / "stages.json"
        commands = [[sys.executable, "-c", CHILD, str(out), json.dumps(stages), *argv] for argv, _ in cases]
        for command, (_, cwd) in zip(commands, cases, strict=True):
            subprocess.run(command, cwd=cwd, env=ENV, capture_output=True)  # warm-up: bytecode, OS caches
        for index in taking_turns(len(cases), runs):
            argv, cwd = cases[index]
            figures, calls[index] = _one_run(commands[index], argv, cwd, out, stages)
            for key, value in figures.items():
                samples[index].setdefault(key, []).append(value)
    return [
        {"seconds": {key: statistics.median(values) for key, values in case.items()}, "calls": counted}
        for case, counted in zip(samples, calls, strict=True)
    ]


def _one_run(
    command: list[str], argv: list[str], cwd: Path, out: Path, stages: list[Stage]
) -> tuple[dict[str, float], dict[str, int]]:
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1) or not out.exists():
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    figures = json.loads(out.read_text(encoding="utf-8"))
    spent = figures["stages"]
    seconds = {WALL: wall, START: wall - figures["elapsed"], IMPORTS: figures["imports"], **spent}
    for row in rows(stages):
        if row.rest_of is not None:
            parent, parts = row.rest_of
            seconds[row.label] = spent[parent] - sum(spent[part] for part in parts)
    top = sum(spent[label] for _, _, label, depth in stages if depth == 1)
    seconds[ELSE] = figures["elapsed"] - figures["imports"] - top
    seconds[GC] = figures["gc"]
    return seconds, figures["calls"]


def _indented(label: str, depth: int) -> str:
    return "  " * (depth - 1) + label


def scale_figures(items: list[int], runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="aiplane-stages-") as tmp:
        folders = [Path(tmp) / f"items-{count}" for count in items]
        for count, folder in zip(items, folders, strict=True):
            folder.mkdir()
            write_project(folder, count)
        small, large = measure([(["check"], folder) for folder in folders], SCALE_STAGES, runs)
    return {"items": items, "small": small, "large": large}


def print_scale(figures: dict[str, Any], runs: int) -> None:
    (small, large), stages = figures["items"], SCALE_STAGES
    a_side, b_side = figures["small"]["seconds"], figures["large"]["seconds"]
    print(f"aiplane check, stage by stage (seconds, median of {runs} fresh processes each, taking turns)")
    print(f"{'stage':58} {small:>9} {large:>9} {'extra':>9}")
    for label, depth, _ in rows(stages):
        a, b = a_side[label], b_side[label]
        print(f"{_indented(label, depth):58} {a:9.3f} {b:9.3f} {b - a:9.3f}")
    base, total = a_side[WALL], b_side[WALL]
    print(
        f"\nGoal: {large} items within 3× the {small}-item check. The {large} items may cost {2 * base:.3f} s "
        f"beyond the {small} (2 × {base:.4f} s); they cost {total - base:.3f} s ({total / base:.1f}×)."
    )
    print(f"The ratio if one row cost no more at {large} items than at {small} (every other as measured):")
    for label, depth, _ in rows(stages)[3:]:
        extra = b_side[label] - a_side[label]
        print(f"  {_indented(label, depth):58} {(total - extra) / base:4.1f}×")


def print_manifests(figures: dict[str, Any], runs: int) -> None:
    print(f"\naiplane check --manifests on this repository, stage by stage (median of {runs} fresh processes)")
    for label, depth, _ in rows(MANIFEST_RUN_STAGES):
        print(f"{_indented(label, depth):58} {figures['seconds'][label]:9.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, nargs=2, default=[10, 5000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--manifests-only", action="store_true", help="only the check --manifests table")
    parser.add_argument("--json", type=Path, help="also write every figure, and each stage's call count, here")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    if not args.manifests_only:
        results["scale"] = scale_figures(args.items, args.runs)
        print_scale(results["scale"], args.runs)
    (results["manifests"],) = measure([(["check", "--manifests"], ROOT)], MANIFEST_RUN_STAGES, args.runs)
    print_manifests(results["manifests"], args.runs)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
