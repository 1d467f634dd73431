"""Synthesis cost: the platform cold (a fresh process: imports, Node start, cdk8s), and 100 / 1,000
generated XRs through the real path (environment model → XR dicts → cdk8s chart → canonical YAML),
against, in the same run, dumping the very same objects with the YAML library alone.

Run: .venv/bin/python benchmarks/synth.py
"""

from __future__ import annotations

import dataclasses
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from aiplane.authoring.composing import CompositionContext  # noqa: E402
from aiplane.catalog.instances import load_catalog  # noqa: E402
from aiplane.project import load_settings  # noqa: E402
from aiplane.synthesis.cdk8s_app import synthesize_charts  # noqa: E402
from aiplane.synthesis.discovery import discover  # noqa: E402
from aiplane.synthesis.environment import load_environment  # noqa: E402
from aiplane.synthesis.platform import build_platform  # noqa: E402
from aiplane.synthesis.xr import environment_objects  # noqa: E402
from aiplane.yamlio import dump_yaml  # noqa: E402

COLD = """
import time; t = time.perf_counter()
from aiplane.project import load_settings
from aiplane.synthesis.pipeline import synthesize
s = synthesize(load_settings(), ["dev"])
s.files()
print(time.perf_counter() - t)
"""


def cold_platform(runs: int = 3) -> float:
    """Median seconds for a fresh process to synthesize the platform (plus the small dev environment)."""
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", COLD], cwd=REPO, capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def generated_xrs(count: int) -> list[dict[str, object]]:
    settings = load_settings(REPO)
    env = load_environment(REPO / "environments/prod.yaml", discover(settings))
    items = list(env.items)
    env.items = [
        dataclasses.replace(items[i % len(items)], name=f"{items[i % len(items)].name}-{i}")
        for i in range(count)
    ]
    project = discover(settings)
    catalog = load_catalog()
    platform = build_platform(project, CompositionContext(settings, project.apis, catalog))
    compositions = [o for o in platform.apis if o["kind"] == "Composition"]
    objects = environment_objects(env, settings, catalog, compositions)
    return [o for o in objects if str(o["apiVersion"]).startswith(f"{settings.group}/")]  # XRs only


def measure(count: int) -> tuple[float, float]:
    objects = generated_xrs(count)
    start = time.perf_counter()
    texts = [p.text for p in synthesize_charts({"bench": objects})["bench"]]  # the files' YAML included
    synth = time.perf_counter() - start
    start = time.perf_counter()
    plain = [dump_yaml(o) for o in objects]
    dump = time.perf_counter() - start
    assert len(texts) == len(plain) == count
    return synth, dump


def main() -> None:
    synthesize_charts({"warm-up": generated_xrs(2)})  # start the jsii kernel once, as synth does
    print(f"platform + dev environment, cold process: {cold_platform():.2f} s (goal < 2 s)")
    print(f"{'XRs':>6} {'synth s':>8} {'dump s':>8} {'ratio':>6}")
    for count in (100, 1000):
        synth, dump = measure(count)
        print(f"{count:>6} {synth:>8.3f} {dump:>8.3f} {synth / dump:>6.2f}")


if __name__ == "__main__":
    main()
