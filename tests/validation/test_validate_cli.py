"""`aiplane validate` as a user runs it: exit codes, text and JSON output, folders, --crds, --strict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from validation_fixtures import VALID, fixture, widget, widget_crd

from aiplane.cli import main


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["validate", *args])


def write(path: Path, *objs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(objs, sort_keys=False))
    return path


def test_valid_manifests_exit_0_with_a_summary() -> None:
    result = run(str(VALID))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("18 objects, 0 errors, 0 warnings, ")


def test_invalid_object_exits_1_and_names_file_document_object_and_field(tmp_path: Path) -> None:
    ng = fixture("nodegroup.yaml")
    ng["spec"]["forProvider"]["gpuCount"] = 4
    path = write(tmp_path / "pools.yaml", fixture("storage.yaml"), ng)
    result = run(str(path))
    assert result.exit_code == 1
    assert (
        f"{path}[1] NodeGroup/gpu-inference spec.forProvider.gpuCount: error: unknown field" in result.stdout
    )
    assert (
        result.stdout.splitlines()[-1]
        == "2 objects, 1 errors, 0 warnings, 0 skipped, 0 not evaluated, 0 no schema"
    )


def test_bad_yaml_exits_2_with_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n")
    result = run(str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:5:1: YAML error")


def test_missing_path_exits_2(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr


def test_json_output_is_the_documented_schema(tmp_path: Path) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n"}}
    path = write(tmp_path / "pod.yaml", fixture("builtin.yaml"), pod)
    result = run("--format", "json", str(path))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["version"] == 2 and data["objects"] == 2 and data["ok"] is True and data["strict"] is False
    assert data["counts"] == {"error": 0, "warning": 0, "noSchema": 1, "skipped": 0, "notEvaluated": 0}
    assert data["findings"] == [
        {
            "severity": "no-schema",
            "check": "schema",
            "path": str(path),
            "index": 1,
            "line": 8,
            "apiVersion": "v1",
            "kind": "Pod",
            "name": "p",
            "namespace": "n",
            "field": "",
            "message": "no schema for v1 Pod: add its CRD with --crds",
        }
    ]


def test_strict_fails_on_unchecked_objects(tmp_path: Path) -> None:
    path = write(tmp_path / "pod.yaml", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})
    assert run(str(path)).exit_code == 0
    assert run("--strict", str(path)).exit_code == 1


def test_folders_skip_kustomization_files(tmp_path: Path) -> None:
    write(tmp_path / "m" / "bucket.yaml", fixture("storage.yaml"))
    write(
        tmp_path / "m" / "kustomization.yaml",
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["bucket.yaml"],
        },
    )
    result = run("--strict", str(tmp_path / "m"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 objects, 0 errors")


def test_crds_option_adds_schemas(tmp_path: Path) -> None:
    write(
        tmp_path / "crds" / "widget.yaml",
        widget_crd({"type": "object", "properties": {"size": {"type": "integer"}}}),
    )
    good = write(tmp_path / "good.yaml", widget({"size": 3}))
    bad = write(tmp_path / "bad.yaml", widget({"size": "big"}))
    assert run("--strict", str(good)).exit_code == 1  # no schema without --crds
    assert run("--strict", "--crds", str(tmp_path / "crds"), str(good)).exit_code == 0
    result = run("--crds", str(tmp_path / "crds"), str(bad))
    assert result.exit_code == 1 and "spec.size: error: expected integer, got string" in result.stdout


def test_default_path_is_the_project_manifests_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.aiplane]\nmanifests = "out"\n')
    ng = fixture("nodegroup.yaml")
    del ng["spec"]["forProvider"]["region"]
    write(tmp_path / "out" / "environments" / "dev" / "pools.yaml", ng)
    monkeypatch.chdir(tmp_path)
    result = run()
    assert result.exit_code == 1
    assert "spec.forProvider.region: error: required field is missing" in result.stdout


def test_outside_a_project_without_paths_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run()
    assert result.exit_code == 2
    assert "not inside an aiplane project" in result.stderr
