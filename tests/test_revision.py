"""aiplane.revision, as `cost --diff` uses it: the committed environment files at a revision, only the top
level of the folder, byte for byte; a folder absent at the revision is refused as before."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aiplane.commands.cost import environments_at
from aiplane.errors import InputError
from aiplane.project import load_settings

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]


def _commit(root: Path) -> None:
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "first"]):
        subprocess.run([*GIT, "-C", str(root), *args], check=True, capture_output=True)


def test_cost_reads_the_top_level_environment_files_byte_for_byte(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.aiplane]\n", encoding="utf-8")
    (tmp_path / "environments" / "old").mkdir(parents=True)
    (tmp_path / "environments" / "dev.yaml").write_bytes(b"name: dev\r\nnote: \xc3\xa9\n")
    (tmp_path / "environments" / "README.md").write_text("not an environment\n", encoding="utf-8")
    (tmp_path / "environments" / "old" / "gone.yaml").write_text("name: gone\n", encoding="utf-8")
    _commit(tmp_path)
    (tmp_path / "environments" / "dev.yaml").write_text("changed since\n", encoding="utf-8")
    with environments_at(load_settings(tmp_path), "HEAD") as folder:
        assert sorted(p.name for p in folder.iterdir()) == ["dev.yaml"]
        assert (folder / "dev.yaml").read_bytes() == b"name: dev\r\nnote: \xc3\xa9\n"


def test_cost_refuses_a_revision_without_the_environments_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.aiplane]\n", encoding="utf-8")
    (tmp_path / "other.txt").write_text("x\n", encoding="utf-8")
    _commit(tmp_path)
    with pytest.raises(InputError, match="cannot read environments/ at this git revision"), \
            environments_at(load_settings(tmp_path), "HEAD"):
        pass
