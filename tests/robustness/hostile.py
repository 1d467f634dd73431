"""Helpers for the hostile-input tests: a synthesized project template, fresh copies of it inside
a sandbox folder, the CLI run in process, and the checks every refusal must pass (exit status 2, one
located line, no traceback, manifests/ unchanged, nothing outside the project touched)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from aiplane.cli import main

REPO = Path(__file__).resolve().parents[2]
AIPLANE = str(Path(sys.executable).with_name("aiplane"))


def tree_hash(root: Path) -> str:
    """One sha256 over every entry under root (path, kind, bytes or link target): any change shows."""
    digest = hashlib.sha256()
    if not os.path.lexists(root):
        return "absent"
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files) + sorted(d for d in dirs if os.path.islink(os.path.join(folder, d))):
            path = Path(folder) / name
            digest.update(path.relative_to(root).as_posix().encode())
            if path.is_symlink():
                digest.update(b"->" + os.readlink(path).encode())
            else:
                digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    traceback: bool


@dataclass
class Sandbox:
    """A folder holding one project and a file outside it that hostile input may point at."""

    folder: Path
    project: Path
    outside: Path

    def snapshot(self) -> tuple[str, str, list[str]]:
        return (
            tree_hash(self.project / "manifests"),
            tree_hash(self.outside),
            sorted(p.name for p in self.folder.iterdir()),
        )


class SandboxFactory:
    """Fresh sandboxes for every hypothesis example (function-scoped fixtures do not reset per example)."""

    def __init__(self, base: Path, template: Path) -> None:
        self.base = base
        self.template = template

    def __call__(self) -> Sandbox:
        folder = self.base / uuid.uuid4().hex[:12]
        folder.mkdir()
        project = folder / "project"
        shutil.copytree(self.template, project, symlinks=True)
        outside = folder / "outside"
        outside.mkdir()
        (outside / "secret.yaml").write_text("name: dev\nsecret: do-not-copy\n")
        return Sandbox(folder, project, outside)


@contextmanager
def working_directory(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def run_cli(project: Path, *args: str) -> Outcome:
    """The CLI in this process (fast: no interpreter start, one cdk8s Node child per session)."""
    with working_directory(project):
        result = CliRunner().invoke(main, list(args))
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    return Outcome(result.exit_code, result.stdout, result.stderr, crashed or "Traceback" in result.stderr)


def run_subprocess(project: Path, *args: str, **env: str) -> Outcome:
    result = subprocess.run(
        [AIPLANE, *args],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Outcome(result.returncode, result.stdout, result.stderr, "Traceback" in result.stderr)


def assert_refused(
    outcome: Outcome, sandbox: Sandbox, before: tuple[str, str, list[str]], *, lines: int = 1
) -> str:
    """Exit 2, `lines` message lines (default one), no traceback, nothing changed; returns the message."""
    assert not outcome.traceback, outcome.stderr
    assert outcome.code == 2, (outcome.code, outcome.stdout, outcome.stderr)
    message = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert len(message) == lines, outcome.stderr
    assert sandbox.snapshot() == before, "manifests/ or something outside the project changed"
    return message[0]
