"""The project's files at a git revision (aiplane.revision), as its two readers use them. `plan` reads the
committed manifests/ in one `git cat-file --batch`: every object, the same as reading each file on its own,
whatever the file names; YAML errors located at `REF:path`. `cost --diff` reads the top level of the committed
environments/ byte for byte, and refuses a revision without that folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from aiplane.commands.cost import environments_at
from aiplane.commands.plan import manifests_at
from aiplane.errors import InputError
from aiplane.project import load_settings

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]


def _git(root: Path, *args: str) -> str:
    return subprocess.run([*GIT, "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.aiplane]\nmanifests = "manifests"\n', encoding="utf-8")
    env = tmp_path / "manifests" / "prod"
    env.mkdir(parents=True)
    (env / "xrs.yaml").write_text(
        "apiVersion: platform.aiplane.io/v1alpha1\nkind: GPUNodePool\nmetadata: {name: a, namespace: prod}\n"
        "spec: {minSize: 0, note: 'yes'}\n---\n"
        "apiVersion: platform.aiplane.io/v1alpha1\nkind: GPUNodePool\nmetadata: {name: b, namespace: prod}\n",
        encoding="utf-8",
    )
    (env / "kustomization.yaml").write_text("resources: [xrs.yaml]\n", encoding="utf-8")  # not an object to plan
    (env / "odd name ü.yaml").write_text("kind: ConfigMap\nmetadata: {name: odd}\ndata: {text: \"é\"}\n",
                                          encoding="utf-8")
    (tmp_path / "manifests" / "flux-system").mkdir()
    (tmp_path / "manifests" / "flux-system" / "gotk.yaml").write_text("kind: Kustomization\n", encoding="utf-8")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "first")
    return tmp_path


def test_every_object_of_every_committed_manifest_as_each_file_reads(repo: Path) -> None:
    got = manifests_at(load_settings(repo), "HEAD")
    expected = []
    for path in ("manifests/prod/odd name ü.yaml", "manifests/prod/xrs.yaml"):
        shown = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{path}"], check=True, capture_output=True)
        expected += list(yaml.safe_load_all(shown.stdout))
    assert got == expected
    assert [o["metadata"]["name"] for o in got] == ["odd", "a", "b"] and got[1]["spec"]["note"] == "yes"


def test_the_revision_is_read_not_the_working_tree(repo: Path) -> None:
    (repo / "manifests" / "prod" / "xrs.yaml").write_text("kind: Changed\n", encoding="utf-8")
    _git(repo, "commit", "-qam", "second")
    assert [o["kind"] for o in manifests_at(load_settings(repo), "HEAD~1")] == ["ConfigMap", "GPUNodePool", "GPUNodePool"]
    assert [o["kind"] for o in manifests_at(load_settings(repo), "HEAD")] == ["ConfigMap", "Changed"]


def test_no_manifests_at_the_revision_is_nothing_to_compare(repo: Path) -> None:
    (repo / "manifests").rename(repo / "elsewhere")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "moved")
    assert manifests_at(load_settings(repo), "HEAD") == []


def test_a_yaml_error_at_the_revision_names_the_revision_file_and_line(repo: Path) -> None:
    (repo / "manifests" / "prod" / "xrs.yaml").write_text("kind: A\nmetadata: {name: [\n", encoding="utf-8")
    _git(repo, "commit", "-qam", "broken")
    with pytest.raises(InputError) as raised:
        manifests_at(load_settings(repo), "HEAD")
    problem = raised.value.problems[0]
    assert problem.path == "HEAD:manifests/prod/xrs.yaml" and problem.line is not None


def test_an_unknown_revision_is_an_input_error(repo: Path) -> None:
    with pytest.raises(InputError, match="cannot read manifests/ at this git revision"):
        manifests_at(load_settings(repo), "no-such-ref")


def test_a_project_in_a_folder_of_a_larger_repository(tmp_path: Path) -> None:
    project = tmp_path / "teams" / "ml"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.aiplane]\nmanifests = "manifests"\n', encoding="utf-8")
    (project / "manifests").mkdir()
    (project / "manifests" / "a.yaml").write_text("kind: ConfigMap\nmetadata: {name: a}\n", encoding="utf-8")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "first")
    assert manifests_at(load_settings(project), "HEAD") == [{"kind": "ConfigMap", "metadata": {"name": "a"}}]


def test_a_file_that_is_not_utf8_is_named(repo: Path) -> None:
    (repo / "manifests" / "prod" / "xrs.yaml").write_bytes(b"kind: A\nmetadata: {name: \xff}\n")
    _git(repo, "commit", "-qam", "latin-1")
    with pytest.raises(InputError) as raised:
        manifests_at(load_settings(repo), "HEAD")
    assert raised.value.problems[0].path == "HEAD:manifests/prod/xrs.yaml"
    assert "not UTF-8" in raised.value.problems[0].message


def test_cost_reads_the_top_level_environment_files_byte_for_byte(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.aiplane]\n", encoding="utf-8")
    (tmp_path / "environments" / "old").mkdir(parents=True)
    (tmp_path / "environments" / "dev.yaml").write_bytes(b"name: dev\r\nnote: \xc3\xa9\n")
    (tmp_path / "environments" / "README.md").write_text("not an environment\n", encoding="utf-8")
    (tmp_path / "environments" / "old" / "gone.yaml").write_text("name: gone\n", encoding="utf-8")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "first")
    (tmp_path / "environments" / "dev.yaml").write_text("changed since\n", encoding="utf-8")
    with environments_at(load_settings(tmp_path), "HEAD") as folder:
        assert sorted(p.name for p in folder.iterdir()) == ["dev.yaml"]
        assert (folder / "dev.yaml").read_bytes() == b"name: dev\r\nnote: \xc3\xa9\n"


def test_cost_refuses_a_revision_without_the_environments_folder(repo: Path) -> None:
    with pytest.raises(InputError, match="cannot read environments/ at this git revision"), \
            environments_at(load_settings(repo), "HEAD"):
        pass
