"""What people wait for: each aiplane command as the CLI runs it, in a fresh process, on the shipped
repository, as a ratio to the floor measured in the same run.

The floor is a fresh Python process that parses every file of manifests/ with libyaml's CSafeLoader: the
least any command that reads the manifests must do. Each figure is the median of --runs runs (cold
processes, warm OS caches, bytecode written by an untimed first run), the floor and the commands taking turns
run by run. Goals (issue "Fast where people wait"): check ≤ 8×, synth --check ≤ 8×, cost ≤ 4×.

    .venv/bin/python benchmarks/cli.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIPLANE = str(Path(sys.executable).with_name("aiplane"))
FLOOR = (
    "import pathlib, yaml\n"
    "for p in sorted(pathlib.Path('manifests').rglob('*.yaml')):\n"
    "    list(yaml.load_all(p.read_text(), Loader=yaml.CSafeLoader))\n"
)
COMMANDS: list[tuple[str, list[str], float | None]] = [
    ("aiplane --help", [AIPLANE, "--help"], None),
    ("aiplane validate manifests/", [AIPLANE, "validate", "manifests"], None),
    ("aiplane cost", [AIPLANE, "cost"], 4.0),
    ("aiplane check --manifests", [AIPLANE, "check", "--manifests"], None),
    ("aiplane check", [AIPLANE, "check"], 8.0),
    ("aiplane synth --check", [AIPLANE, "synth", "--check"], 8.0),
    ("aiplane plan --against HEAD", [AIPLANE, "plan", "--against", "HEAD"], None),
]


# As on a developer's machine: bytecode is written (a first, untimed run writes it) and used.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def taking_turns(cases: int, runs: int) -> Iterator[int]:
    """The index of the case to run next, `runs` rounds of every case: cases take turns run by run, in an
    order that alternates, so a machine that gets faster or slower during a benchmark moves every case alike
    (a ratio between two compares the same moments) and no case always runs right after another."""
    for round_no in range(runs):
        yield from (range(cases) if round_no % 2 == 0 else reversed(range(cases)))


def medians_taking_turns(argvs: list[list[str]], runs: int) -> list[float]:
    """The median wall time of each command line over `runs` fresh processes, after an untimed warm-up each,
    the commands taking turns (taking_turns)."""
    for argv in argvs:
        subprocess.run(argv, cwd=ROOT, capture_output=True, env=ENV)  # warm-up: bytecode, OS caches
    times: list[list[float]] = [[] for _ in argvs]
    for index in taking_turns(len(argvs), runs):
        argv = argvs[index]
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=ENV)
        times[index].append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return [statistics.median(spent) for spent in times]

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    floor, *figures = medians_taking_turns([[sys.executable, "-c", FLOOR], *(a for _, a, _ in COMMANDS)], args.runs)
    print(f"floor (parse every manifest with CSafeLoader, fresh process): {floor:.3f} s")
    print(f"{'command':32} {'median':>8} {'× floor':>8} {'goal':>6}")
    for (label, _, goal), seconds in zip(COMMANDS, figures, strict=True):
        goal_text = f"≤ {goal:g}" if goal else ""
        print(f"{label:32} {seconds:7.3f}s {seconds / floor:8.1f} {goal_text:>6}")

if __name__ == "__main__":
    main()
