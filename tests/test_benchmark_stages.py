"""benchmarks/stages.py times `aiplane check` stage by stage by wrapping the functions the command calls; a
renamed or moved stage would otherwise only show when someone next runs the benchmark. This runs it on
small projects (2 and 4 items, one run each) and checks that every stage was found and timed and that the
figures add up: the stages of a run lie within its wall time."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from stages import COMMON_STAGES, MANIFEST_STAGES, SYNTHESIS_STAGES  # noqa: E402

ROW = re.compile(r"^(?P<label>\S.*?)\s+(?P<figures>-?\d+\.\d{3}(?:\s+-?\d+\.\d{3})*)$")


def _rows(text: str) -> dict[str, list[float]]:
    rows = {}
    for line in text.splitlines():
        match = ROW.match(line.strip())
        if match:
            rows[match["label"]] = [float(x) for x in match["figures"].split()]
    return rows


def test_every_stage_is_timed_and_the_figures_add_up() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "stages.py"), "--items", "2", "4", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    scale_part, _, manifests_part = done.stdout.partition("aiplane check --manifests")
    scale_rows, manifest_rows = _rows(scale_part), _rows(manifests_part)

    # The scale table's columns: 2 items, 4 items, then the difference (not a run); --manifests: one run.
    tables = (
        (SYNTHESIS_STAGES + COMMON_STAGES, scale_rows, (0, 1)),
        (MANIFEST_STAGES + COMMON_STAGES, manifest_rows, (0,)),
    )
    for stages, rows, runs in tables:
        for _, _, label, _ in stages:
            assert label in rows, f"stage {label!r} missing from the output"
            assert all(rows[label][column] >= 0 for column in runs), (label, rows[label])
        for column in runs:
            top = sum(rows[label][column] for _, _, label, depth in stages if depth == 1)
            assert top <= rows["wall"][column], (column, top, rows["wall"][column])
    # A wrapped function that is no longer called would show 0: the stages that always do work must not.
    for label in (
        "discovering the APIs and compositions",
        "building the platform objects",
        "loading the environment files",
        "reading their YAML",
        "validating against the CRDs and XRDs",
        "compiling each kind's schema",
        "running the rules",
    ):
        assert scale_rows[label][0] > 0, label
    for label in ("reading manifests/", "validating against the CRDs and XRDs", "running the rules"):
        assert manifest_rows[label][0] > 0, label
    assert "Goal: 4 items within 3× the 2-item check" in scale_part
