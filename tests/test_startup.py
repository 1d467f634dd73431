"""What the everyday commands load: each runs in a fresh process of its own (what a module import costs is
paid once per process, so only a fresh one shows it) on the shipped project, watched from inside.

The costs these guard against are each a few milliseconds of every run (docs/performance.md, "Startup"):
pydantic reading a builtin default factory's signature (Python 3.11 compiles the tokenizer's regular
expressions for it), `check --manifests` importing the synthesis pipeline it never runs, and the CEL
package's command-line tool."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Runs one command in-process and prints what was loaded on the way, as JSON.
WATCH = """
import inspect, json, sys
builtin_signatures = []
_fromstr = inspect._signature_fromstr
def _spy(cls, obj, s, *args, **kwargs):
    builtin_signatures.append(repr(obj))
    return _fromstr(cls, obj, s, *args, **kwargs)
inspect._signature_fromstr = _spy
from aiplane.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps({"builtin_signatures": builtin_signatures, "modules": sorted(sys.modules)}))
"""


def _watch(*command: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", WATCH, *command], cwd=ROOT, capture_output=True, text=True, check=True
    )
    report: dict[str, list[str]] = json.loads(done.stdout.splitlines()[-1])
    return report


@pytest.mark.parametrize(
    "command", [("check",), ("check", "--manifests"), ("cost",), ("synth", "--check"), ("validate", "manifests")]
)
def test_no_builtin_signature_is_parsed(command: tuple[str, ...]) -> None:
    # A model field `Field(default_factory=list)` makes pydantic ask for list's signature, which Python
    # parses from text with the tokenizer; `default_factory=lambda: []` gives the same model and schema.
    assert _watch(*command)["builtin_signatures"] == []


def test_check_manifests_does_not_import_the_synthesis_pipeline() -> None:
    modules = _watch("check", "--manifests")["modules"]
    assert "aiplane.synthesis.pipeline" not in modules
    assert "aiplane.policy" in modules  # the watch did run the check


def test_the_cel_command_line_tool_is_not_imported() -> None:
    modules = _watch("check")["modules"]
    assert "cel" in modules
    assert not {"typer", "prompt_toolkit", "rich"} & set(modules)
