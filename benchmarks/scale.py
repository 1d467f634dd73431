"""`aiplane check` on one environment of 10 and of 5,000 items, as the CLI runs it: a fresh process on a
project whose environment file holds that many items, timed (wall) and measured (peak resident memory of the
process and its children, from the kernel's rusage). Goals (issue "Fast where people wait"): the 5,000-item
check within 3× the 10-item check, peak memory ≤ 200 MB.

The environment is prod's, its node pools (at their smallest allowed size, without the Neuron pool, so the quotas stay
within what AWS grants), buckets and endpoints repeated with numbered names (`<name>-<k>`; endpoints capture
into their own copy's bucket), the budget raised to the items' total so the checks pass and every rule runs
to the end. The project reuses this repository's xrds/ and compositions/. Each figure is the median of --runs
runs after an untimed warm-up, the sizes taking turns run by run (in alternating order).

    .venv/bin/python benchmarks/scale.py [--items 10 5000] [--runs 3]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from cli import AIPLANE, ENV, ROOT, taking_turns  # the same fresh-process setting as every benchmark

LISTS = ("nodePools", "buckets", "endpoints")


def environment(items: int) -> dict[str, Any]:
    """prod.yaml with `items` node pools, buckets and endpoints (prod's, repeated in turn, renamed)."""
    prod = yaml.safe_load((ROOT / "environments" / "prod.yaml").read_text(encoding="utf-8"))
    # Not the Neuron pool: 192 vCPUs at 2 nodes each, its copies would need more than the largest quota
    # the loader accepts (100,000 vCPUs) long before 5,000 items. The other pools keep the smallest size their rules allow.
    originals = [(key, item) for key in LISTS for item in prod[key] if item["name"] != "neuron-inference"]
    out: dict[str, Any] = {**prod, **{key: [] for key in LISTS}}
    for n in range(items):
        key, item = originals[n % len(originals)]
        copy_no = n // len(originals)
        clone = copy.deepcopy(item)
        clone["name"] = f"{item['name']}-{copy_no}"
        if key == "nodePools":
            # Production-critical on mixed capacity keeps the smallest spot-safe shape: two nodes, one on demand.
            mixed = bool(clone.get("onDemandBaseSize"))
            clone["scaling"] = {"minSize": 2, "maxSize": 2, "desiredSize": 2} if mixed else {"minSize": 0, "maxSize": 1}
            if mixed:
                clone["onDemandBaseSize"] = 1
        out[key].append(clone)
    # An endpoint captures into the bucket of its own copy, which exists when the copy's buckets were made.
    bucket_names = {b["name"] for b in out["buckets"]}
    for endpoint in out["endpoints"]:
        copy_no = endpoint["name"].rsplit("-", 1)[1]
        wanted = f"{endpoint['bucketRef']['name']}-{copy_no}"
        endpoint["bucketRef"]["name"] = wanted if wanted in bucket_names else sorted(bucket_names)[0]
    out["finops"]["budgetPerHour"] = 60 * items
    return out


def project(folder: Path, items: int) -> None:
    """A project in `folder` whose prod environment holds `items` items."""
    project_without_environments(folder)
    (folder / "environments" / "prod.yaml").write_text(yaml.safe_dump(environment(items)), encoding="utf-8")


def write_project(folder: Path, items: int) -> None:
    """project(folder, items), in a process of its own. The 5,000-item environment takes this process to
    over 150 MB, and a child started from a process inherits its peak as its own: Linux keeps the larger of
    the peaks of the memory a process had before and after exec in its rusage (subprocess starts children
    through vfork, which shares this process's memory until exec). Built here, every later measure of a
    check's peak memory would be at least this process's peak."""
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import scale, pathlib; " + (
        f"scale.project(pathlib.Path({str(folder)!r}), {items})"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def project_without_environments(folder: Path) -> None:
    """pyproject.toml using this repository's xrds/ and compositions/, and an empty environments/."""
    (folder / "environments").mkdir()
    (folder / "pyproject.toml").write_text(
        "[tool.aiplane]\n"
        f'xrds = "{ROOT / "xrds"}"\n'
        f'compositions = "{ROOT / "compositions"}"\n'
        'environments = "environments"\n'
        'manifests = "manifests"\n',
        encoding="utf-8",
    )


def run(argv: list[str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB of the process tree, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, nargs="+", default=[10, 5000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aiplane-scale-") as tmp:
        folders = [Path(tmp) / f"items-{items}" for items in args.items]
        for items, folder in zip(args.items, folders, strict=True):
            folder.mkdir()
            write_project(folder, items)
            run([AIPLANE, "check"], folder)  # warm-up: bytecode, OS caches
        runs: dict[int, list[tuple[float, float, int]]] = {items: [] for items in args.items}
        for index in taking_turns(len(args.items), args.runs):  # the sizes take turns
            runs[args.items[index]].append(run([AIPLANE, "check"], folders[index]))
    base = statistics.median(r[0] for r in runs[args.items[0]])
    for items in args.items:
        wall = statistics.median(r[0] for r in runs[items])
        peak = max(r[1] for r in runs[items])
        codes = sorted({r[2] for r in runs[items]})
        print(f"check, {items:>5} items: {wall:6.2f} s (median of {args.runs}), {wall / base:4.1f}× the "
              f"{args.items[0]}-item check, peak {peak:5.0f} MB, exit {codes}")


if __name__ == "__main__":
    main()
