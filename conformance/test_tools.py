"""The tool build and the function servers: pinned, reused, stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from realengine import ROOT, TOOLS, EngineError, Tools, serve_functions

BUILD = [sys.executable, str(ROOT / "conformance" / "build_tools.py")]


def test_manifest_lists_every_tool_with_its_pinned_version_and_argv() -> None:
    tools = {t["name"]: t for t in json.loads((TOOLS / "manifest.json").read_text())["tools"]}
    assert tools["crossplane-core"]["version"] == "v2.3.4"
    assert tools["crossplane-contrib-function-patch-and-transform"]["version"] == "v0.10.7"
    assert tools["crossplane-contrib-function-auto-ready"]["command"] == [
        ".tools/bin/function-auto-ready", "--insecure", "--address={address}"
    ]
    # aiplane's own function: the working tree's code, in a venv with the SDK the pyproject `function` extra pins.
    own = tools["function-aiplane"]
    assert own["version"] == "crossplane-function-sdk-python==0.15.1"
    assert own["command"] == [".tools/function-aiplane/bin/python", "-m", "aiplane.function", "--insecure", "--address={address}"]
    version = subprocess.run([str(ROOT / ".tools/bin/crossplane-core"), "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == "v2.3.4"
    cli = subprocess.run([str(ROOT / ".tools/bin/crossplane"), "version", "--client"], capture_output=True, text=True)
    assert cli.stdout.strip() == "Client Version: v2.2.0"


def test_a_second_build_reuses_what_the_stamps_say_is_current() -> None:
    done = subprocess.run(BUILD, capture_output=True, text=True, check=True)
    assert "building" not in done.stdout, done.stdout
    assert done.stdout.count("up to date") == 5


def test_without_go_only_the_pinned_cli_on_path_is_accepted(tmp_path: Path) -> None:
    """A developer without Go needs the Crossplane CLI v2.3.4; another version on PATH is refused by name."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "crossplane").symlink_to(ROOT / ".tools/bin/crossplane")  # the v2.2.0 CLI
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    done = subprocess.run([*BUILD, "--tools", str(tmp_path / "tools")], capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert "needs Go" in done.stderr and "Crossplane CLI v2.3.4 on PATH" in done.stderr


def test_function_servers_are_stopped_when_the_work_fails() -> None:
    tools = Tools.load()
    with pytest.raises(EngineError), serve_functions(tools) as addresses:
        pids = _listeners(addresses)
        assert pids
        raise EngineError("render failed")
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def _listeners(addresses: dict[str, str]) -> list[int]:
    """PIDs of the function servers (children of this process serving the given ports)."""
    ports = {a.rsplit(":", 1)[1] for a in addresses.values()}
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(arg.decode(errors="replace").endswith(tuple(f":{p}" for p in ports)) for arg in cmdline):
            found.append(int(proc.name))
    return found
