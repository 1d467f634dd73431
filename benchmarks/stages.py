"""Where `aiplane check` spends its time, stage by stage, as the CLI runs it: at 10 and at 5,000 environment
items (the projects of benchmarks/scale.py), and `check --manifests` on the shipped repository (the run
benchmarks/checkov.py compares with Checkov).

Each run is a fresh process that runs the real console script (`aiplane.cli.console`, quick exit included)
with the command's stage functions wrapped in timers; the stages are timed where the command calls them, so
nothing of the command changes but a clock read around each call. Garbage collection is timed through
gc.callbacks and reported beside the stages it happens in. A stage's figure is the median over --runs runs,
the 10- and 5,000-item checks taking turns; "interpreter start and exit" is the wall time seen from outside
minus what the process timed itself.

It then does the arithmetic of the goal "5,000 items within 3× the 10-item check": what the 5,000 items may
cost beyond the 10, what they cost, and the ratio if any one stage cost nothing more at 5,000 items than at
10. Stage names follow the code; a stage that no longer exists fails the run (tests/test_benchmark_stages.py
runs a small case, so a rename is caught there, not here).

    .venv/bin/python benchmarks/stages.py [--items 10 5000] [--runs 5] [--manifests-only]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import ENV, ROOT, write_project  # the same projects as the scale benchmark

# (module, function, label, depth): depth 1 is a stage of `check`, depth 2 a part of the stage above it. The
# synthesis stages exist only when check synthesizes (not with --manifests, which never imports them).
SYNTHESIS_STAGES = [
    ("aiplane.synthesis.pipeline", "discover", "discovering the APIs and compositions", 1),
    ("aiplane.synthesis.pipeline", "build_platform", "building the platform objects", 1),
    ("aiplane.synthesis.pipeline", "load_environments", "loading the environment files", 1),
    ("aiplane.synthesis.environment", "load_yaml", "reading their YAML", 2),
    ("aiplane.synthesis.pipeline", "environment_objects", "building the XRs", 1),
    ("aiplane.synthesis.pipeline", "package_plain", "putting them in cdk8s's returned form", 1),
    ("aiplane.commands.check", "build_source_map", "mapping objects to their source lines", 1),
]
MANIFEST_STAGES = [("aiplane.commands.check", "gather", "reading manifests/", 1)]
COMMON_STAGES = [
    ("aiplane.commands.check", "default_context", "the rules' context (catalog, registry)", 1),
    ("aiplane.commands.check", "validate_documents", "validating against the CRDs and XRDs", 1),
    ("aiplane.validation.checker", "compile_kind", "compiling each kind's schema", 2),
    ("aiplane.commands.check", "run_rules", "running the rules", 1),
]

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
gc_time = [0.0, 0.0]
def on_gc(phase, info):
    if phase == "start":
        gc_time[1] = time.perf_counter()
    else:
        gc_time[0] += time.perf_counter() - gc_time[1]
gc.callbacks.append(on_gc)
def timed(function, label):
    def wrapper(*args, **kwargs):
        begun = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - begun
    return wrapper
for module, name, label, _ in stages:
    setattr(modules[module], name, timed(getattr(modules[module], name), label))
def report():
    end = time.perf_counter()
    with open(out, "w") as f:
        json.dump({"elapsed": end - START, "imports": imported - START, "gc": gc_time[0], "stages": spent}, f)
atexit.register(report)
sys.argv = ["aiplane", *argv]
aiplane.cli.console()
"""


Stages = list[tuple[str, str, str, int]]


def measure(cases: list[tuple[list[str], Path]], stages: Stages, runs: int) -> list[dict[str, float]]:
    """For each (command line, folder): the median seconds of each stage (and wall, imports, the rest) over
    `runs` fresh processes. The cases take turns run by run, so a machine that gets faster or slower
    during the benchmark moves every case alike (a ratio between cases stays a ratio of the same moment)."""
    samples: list[dict[str, list[float]]] = [{} for _ in cases]
    with tempfile.TemporaryDirectory(prefix="aiplane-stages-") as tmp:
        out = Path(tmp) / "stages.json"
        commands = [[sys.executable, "-c", CHILD, str(out), json.dumps(stages), *argv] for argv, _ in cases]
        for command, (_, cwd) in zip(commands, cases, strict=True):
            subprocess.run(command, cwd=cwd, env=ENV, capture_output=True)  # warm-up: bytecode, OS caches
        for _ in range(runs):
            for index, (command, (argv, cwd)) in enumerate(zip(commands, cases, strict=True)):
                for key, value in _one_run(command, argv, cwd, out, stages).items():
                    samples[index].setdefault(key, []).append(value)
    return [{key: statistics.median(values) for key, values in case.items()} for case in samples]


def _one_run(command: list[str], argv: list[str], cwd: Path, out: Path, stages: Stages) -> dict[str, float]:
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1) or not out.exists():
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    figures = json.loads(out.read_text(encoding="utf-8"))
    top = sum(figures["stages"][label] for _, _, label, depth in stages if depth == 1)
    return {
        "wall": wall,
        "interpreter start and exit": wall - figures["elapsed"],
        "imports before the command runs": figures["imports"],
        **figures["stages"],
        "everything else (click, settings, report, later imports)": figures["elapsed"] - figures["imports"] - top,
        "garbage collection, within the above": figures["gc"],
    }


def _indent(label: str, stages: Stages) -> str:
    depth = next((d for _, _, name, d in stages if name == label), 1)
    return "  " * (depth - 1) + label


def scale_table(items: list[int], runs: int) -> None:
    stages = SYNTHESIS_STAGES + COMMON_STAGES
    with tempfile.TemporaryDirectory(prefix="aiplane-stages-") as tmp:
        folders = [Path(tmp) / f"items-{count}" for count in items]
        for count, folder in zip(items, folders, strict=True):
            folder.mkdir()
            write_project(folder, count)
        figures = dict(zip(items, measure([(["check"], folder) for folder in folders], stages, runs), strict=True))
    small, large = items[0], items[-1]
    print(f"aiplane check, stage by stage (seconds, median of {runs} fresh processes each, taking turns)")
    print(f"{'stage':58} {small:>9} {large:>9} {'extra':>9}")
    for key in figures[small]:
        a, b = figures[small][key], figures[large][key]
        print(f"{_indent(key, stages):58} {a:9.3f} {b:9.3f} {b - a:9.3f}")
    base, total = figures[small]["wall"], figures[large]["wall"]
    allowed = 2 * base
    print(
        f"\nGoal: {large} items within 3× the {small}-item check. The {large} items may cost {allowed:.3f} s "
        f"beyond the {small} (2 × {base:.3f} s); they cost {total - base:.3f} s ({total / base:.1f}×)."
    )
    print(f"The ratio if one stage cost no more at {large} items than at {small} (every other stage as measured):")
    for _, _, label, _ in stages:
        extra = figures[large][label] - figures[small][label]
        print(f"  {_indent(label, stages):58} {(total - extra) / base:4.1f}×")
    gc_extra = figures[large]["garbage collection, within the above"] - figures[small][
        "garbage collection, within the above"
    ]
    print(f"  {'garbage collection':58} {(total - gc_extra) / base:4.1f}×")


def manifests_table(runs: int) -> None:
    stages = MANIFEST_STAGES + COMMON_STAGES
    (figures,) = measure([(["check", "--manifests"], ROOT)], stages, runs)
    print(f"\naiplane check --manifests on this repository, stage by stage (median of {runs} fresh processes)")
    for key, value in figures.items():
        print(f"{_indent(key, stages):58} {value:9.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, nargs=2, default=[10, 5000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--manifests-only", action="store_true", help="only the check --manifests table")
    args = parser.parse_args()
    if not args.manifests_only:
        scale_table(args.items, args.runs)
    manifests_table(args.runs)


if __name__ == "__main__":
    main()
