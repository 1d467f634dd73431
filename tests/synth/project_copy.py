"""A throwaway copy of the project, so tests can synthesize, break inputs and watch manifests/."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AIPLANE = str(Path(sys.executable).with_name("aiplane"))


def copy_project(dest: Path) -> Path:
    shutil.copy2(REPO / "pyproject.toml", dest / "pyproject.toml")
    for folder in ("xrds", "compositions", "environments", "ethics-reports"):
        shutil.copytree(REPO / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def run_aiplane(project: Path, *args: str, seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run([AIPLANE, *args], cwd=project, env=env, capture_output=True, text=True, timeout=300)


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under root with its sha256, so tests can compare trees byte for byte; bytecode caches
    (which importing xrds/ and compositions/ writes unless PYTHONDONTWRITEBYTECODE is set) are not content."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.relative_to(root).parts
    }
