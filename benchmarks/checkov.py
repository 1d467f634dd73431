"""`aiplane check --manifests` against Checkov on the same files: Checkov is what platform teams already run
over Kubernetes manifests in CI. Goal (issue "Fast where people wait"): aiplane ≥ 10× faster.

Checkov is installed, pinned, into its own virtual environment under .tools/ (it pins its own versions of
many libraries aiplane also uses, so it cannot share .venv); the first run creates it. Each figure is the
median of --runs fresh processes after an untimed warm-up, the two tools taking turns run by run; the output
is discarded.

    .venv/bin/python benchmarks/checkov.py [--runs 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli import AIPLANE, ROOT, medians_taking_turns  # the same fresh-process timing as cli.py's

CHECKOV_VERSION = "3.3.30"
CHECKOV_VENV = ROOT / ".tools" / f"checkov-{CHECKOV_VERSION}"


def checkov() -> str:
    """The pinned Checkov's executable, installed on first use."""
    exe = CHECKOV_VENV / "bin" / "checkov"
    if not exe.exists():
        print(f"installing checkov {CHECKOV_VERSION} into {CHECKOV_VENV.relative_to(ROOT)} (once)", flush=True)
        venv.create(CHECKOV_VENV, with_pip=True)
        subprocess.run([str(CHECKOV_VENV / "bin" / "pip"), "install", f"checkov=={CHECKOV_VERSION}"], check=True)
    return str(exe)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ours, theirs = medians_taking_turns(
        [
            [AIPLANE, "check", "--manifests"],
            [checkov(), "-d", "manifests", "--framework", "kubernetes", "--quiet", "--compact"],
        ],
        args.runs,
    )
    print(f"aiplane check --manifests: {ours:.2f} s; checkov {CHECKOV_VERSION} -d manifests --framework "
          f"kubernetes: {theirs:.2f} s; aiplane is {theirs / ours:.1f}× faster (goal ≥ 10×)")


if __name__ == "__main__":
    main()
