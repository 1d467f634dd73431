"""benchmarks/stages.py times `aiplane check` stage by stage by wrapping the functions the command calls; a
renamed, moved or no longer called stage would otherwise only show when someone next runs the benchmark (a
renamed one fails it; one no longer called reads 0). This runs it on small projects (2 and 4 items, one run
each) and checks from its --json record that every stage was called and that the figures add up. The
benchmark runs in a process of its own: its folder is not put on this process's import path."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK = ROOT / "benchmarks" / "stages.py"


def _stage_lists() -> dict[str, list[tuple[str, str, str, int]]]:
    """The stage lists as the benchmark declares them, read from its source without importing it."""
    lists = {}
    for node in ast.parse(BENCHMARK.read_text(encoding="utf-8")).body:
        declares = isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        if declares and node.value is not None and node.target.id.endswith("_STAGES"):
            lists[node.target.id] = [tuple(item) for item in ast.literal_eval(node.value)]
    return lists


def test_every_stage_is_called_and_the_figures_add_up(tmp_path: Path) -> None:
    record = tmp_path / "stages.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--items", "2", "4", "--runs", "1", "--json", str(record)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(record.read_text(encoding="utf-8"))
    lists = _stage_lists()
    assert set(lists) == {"SYNTHESIS_STAGES", "MANIFEST_STAGES", "COMMON_STAGES"}
    runs = [
        (lists["SYNTHESIS_STAGES"] + lists["COMMON_STAGES"], figures["scale"]["small"]),
        (lists["SYNTHESIS_STAGES"] + lists["COMMON_STAGES"], figures["scale"]["large"]),
        (lists["MANIFEST_STAGES"] + lists["COMMON_STAGES"], figures["manifests"]),
    ]
    for stages, run in runs:
        for _, function, label, _ in stages:
            assert run["calls"][label] >= 1, f"{function} ({label!r}) was not called"
        seconds = run["seconds"]
        # Every row is a time, "the rest of" a stage included (its time outside its parts, in one run).
        assert all(value >= 0 for value in seconds.values()), seconds
        top = sum(seconds[label] for _, _, label, depth in stages if depth == 1)
        assert top <= seconds["wall"], (top, seconds["wall"])
    assert "Goal: 4 items within 3× the 2-item check" in done.stdout
