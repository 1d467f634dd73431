"""`aiplane check --manifests` against Checkov on the same files: Checkov is what platform teams already run
over Kubernetes manifests in CI. Goal (issue "Fast where people wait"): aiplane ≥ 10× faster.

Checkov is installed, pinned, into its own virtual environment under .tools/ (it pins its own versions of
many libraries aiplane also uses, so it cannot share .venv); the first run creates it. Each figure is the
median of --runs fresh processes after an untimed warm-up; the output is discarded.

    .venv/bin/python benchmarks/checkov.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKOV_VERSION = "3.3.30"
CHECKOV_VENV = ROOT / ".tools" / f"checkov-{CHECKOV_VERSION}"
AIPLANE = str(Path(sys.executable).with_name("aiplane"))
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def checkov() -> str:
    """The pinned Checkov's executable, installed on first use."""
    exe = CHECKOV_VENV / "bin" / "checkov"
    if not exe.exists():
        print(f"installing checkov {CHECKOV_VERSION} into {CHECKOV_VENV.relative_to(ROOT)} (once)", flush=True)
        venv.create(CHECKOV_VENV, with_pip=True)
        subprocess.run([str(CHECKOV_VENV / "bin" / "pip"), "install", f"checkov=={CHECKOV_VERSION}"], check=True)
    return str(exe)


def median_seconds(argv: list[str], runs: int) -> float:
    subprocess.run(argv, cwd=ROOT, capture_output=True, env=ENV)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, env=ENV)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ours = median_seconds([AIPLANE, "check", "--manifests"], args.runs)
    theirs = median_seconds([checkov(), "-d", "manifests", "--framework", "kubernetes", "--quiet", "--compact"],
                            args.runs)
    print(f"aiplane check --manifests: {ours:.2f} s; checkov {CHECKOV_VERSION} -d manifests --framework "
          f"kubernetes: {theirs:.2f} s; aiplane is {theirs / ours:.1f}× faster (goal ≥ 10×)")


if __name__ == "__main__":
    main()
