"""Fixtures of the hostile-input tests (helpers live in hostile.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import REPO, SandboxFactory


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's project with its committed generated files (current: synth --check checks them)."""
    project = tmp_path_factory.mktemp("template") / "project"
    project.mkdir()
    shutil.copy2(REPO / "pyproject.toml", project / "pyproject.toml")
    # manifests/, schemas/ and docs/apis/: what synth writes and `synth --check` compares.
    for folder in ("xrds", "compositions", "environments", "manifests", "schemas", "docs/apis"):
        shutil.copytree(REPO / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return project


@pytest.fixture(scope="session")
def sandboxes(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[SandboxFactory]:
    yield SandboxFactory(tmp_path_factory.mktemp("sandboxes"), template)
