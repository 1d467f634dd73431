"""`python -m aiplane` is the same CLI as the console script; every command's --help states its exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "aiplane", "--help"], capture_output=True, text=True, check=True)
    assert "synth" in done.stdout and "check" in done.stdout


@pytest.mark.parametrize("command", ["synth", "cost", "check", "plan", "validate", "audit", "rightsize"])
def test_help_states_exit_codes(command: str) -> None:
    done = subprocess.run([sys.executable, "-m", "aiplane", command, "--help"], capture_output=True, text=True,
                          check=True)
    assert "Exit 0" in " ".join(done.stdout.split())
