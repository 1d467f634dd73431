"""`aiplane init`: what a new platform repository starts with, from the templates and the shipped files."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from aiplane import __version__, cli
from aiplane.commands.init import planned_files
from aiplane.project import DEFAULT_GROUP, load_settings

REPO = Path(__file__).resolve().parents[2]


def test_the_copied_apis_stacks_and_pack_are_this_repositorys_own_files() -> None:
    files = planned_files("copy", "team-platform")
    for folder in ("xrds", "compositions"):
        for source in (REPO / folder).glob("*.py"):
            assert files[f"{folder}/{source.name}"] == source.read_text(encoding="utf-8")
    for copied in ("environments/dev.yaml", "stacks/platform/platform_stack.py", "stacks/platform/Pulumi.dev.yaml",
                   "stacks/aws-foundation/foundation_stack.py", "policypacks/aiplane-guardrails/__main__.py",
                   "policypacks/aiplane-guardrails/policy-config.json"):
        assert files[copied] == (REPO / copied).read_text(encoding="utf-8"), copied


def test_with_apis_as_a_dependency_nothing_of_them_is_copied_and_the_package_is_required() -> None:
    files = planned_files("dependency", "team-platform")
    assert not [p for p in files if p.startswith(("xrds/", "compositions/"))]
    project = tomllib.loads(files["pyproject.toml"])["project"]
    assert f"aiplane-apis~={__version__}" in project["dependencies"]


@pytest.mark.parametrize("apis", ["copy", "dependency"])
def test_the_pyproject_depends_on_this_aiplane_and_marks_the_project(apis: str, tmp_path: Path) -> None:
    files = planned_files(apis, "team-platform")
    data = tomllib.loads(files["pyproject.toml"])
    assert data["project"]["name"] == "team-platform"
    assert f"aiplane~={__version__}" in data["project"]["dependencies"]
    assert data["project"]["optional-dependencies"]["pulumi"] == [f"aiplane[pulumi]~={__version__}"]
    (tmp_path / "pyproject.toml").write_text(files["pyproject.toml"], encoding="utf-8")
    settings = load_settings(tmp_path)
    assert settings.root == tmp_path and settings.group == DEFAULT_GROUP
    assert settings.xrds == tmp_path / "xrds" and settings.manifests == tmp_path / "manifests"


def test_the_hooks_and_the_ci_workflow_run_the_gate() -> None:
    files = planned_files("copy", "team-platform")
    hooks = yaml.safe_load(files[".pre-commit-config.yaml"])["repos"][0]["hooks"]
    assert {h["entry"] for h in hooks} == {".venv/bin/aiplane check", ".venv/bin/aiplane synth --check"}
    workflow = yaml.safe_load(files[".github/workflows/aiplane.yml"])
    steps = [step.get("run", "") for step in workflow["jobs"]["check"]["steps"]]
    assert "make check" in steps
    makefile = files["Makefile"]
    assert "\t$(BIN)/aiplane synth --check\n\t$(BIN)/aiplane check\n" in makefile
    assert "--quiet" not in makefile
    # The CrossGuard pack's virtualenv gets aiplane's rules with pulumi-policy: the project with its extra.
    assert "\n-e ../..[pulumi]\n" in files["policypacks/aiplane-guardrails/requirements.txt"]


def test_init_writes_a_repository_that_synthesizes_and_passes_the_guardrails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "team-platform"
    result = CliRunner().invoke(cli.main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert (target / "manifests" / "clusters" / "dev" / "kustomization.yaml").is_file()
    monkeypatch.chdir(target)
    for args in (["synth", "--check"], ["check"]):
        again = CliRunner().invoke(cli.main, args)
        assert again.exit_code == 0, again.output


def test_a_folder_that_is_not_empty_is_refused_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("ours\n", encoding="utf-8")
    refused = CliRunner().invoke(cli.main, ["init", str(tmp_path), "--no-synth"])
    assert refused.exit_code == 2 and "not empty" in refused.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.md"]
    forced = CliRunner().invoke(cli.main, ["init", str(tmp_path), "--no-synth", "--force"])
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "notes.md").read_text(encoding="utf-8") == "ours\n"
    assert (tmp_path / "pyproject.toml").is_file() and not (tmp_path / "manifests").exists()


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("", encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["init", str(target), "--force"])
    assert result.exit_code == 2


def test_help_states_the_exit_codes() -> None:
    result = CliRunner().invoke(cli.main, ["init", "--help"])
    assert result.exit_code == 0
    assert "Exit 0 created" in result.output and "--apis" in result.output


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_makefile_creates_the_venv_once_and_runs_the_gate(tmp_path: Path) -> None:
    for path, text in planned_files("copy", "team-platform").items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    # As a fresh shell runs it: under `make test` the outer make's MAKELEVEL/MAKEFLAGS would make this one
    # print "Entering/Leaving directory" lines around the recipe.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    dry = subprocess.run(["make", "--no-print-directory", "-n", "check"], cwd=tmp_path, capture_output=True,
                         text=True, check=True, env=env)
    lines = dry.stdout.splitlines()
    assert "python3 -m venv .venv" in lines and ".venv/bin/python -m pip install -e ." in lines
    assert lines[-2:] == [".venv/bin/aiplane synth --check", ".venv/bin/aiplane check"]
