"""`aiplane synth`: deterministic, atomic, stale files removed, drift detected, kustomize-buildable."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path

import pytest
from project_copy import REPO, copy_project, run_aiplane, tree_digest

from aiplane.synthesis.pipeline import Synthesis
from aiplane.validation import SchemaRegistry, Severity, validate_documents


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = copy_project(tmp_path_factory.mktemp("project"))
    result = run_aiplane(path, "synth")
    assert result.returncode == 0, result.stderr
    return path


def test_every_synthesized_object_passes_strict_validation(synthesis: Synthesis) -> None:
    report = validate_documents(synthesis.objects(), SchemaRegistry.default(), strict=True)
    failing = [f for f in report.findings if f.fails(strict=True)]
    assert failing == []
    assert report.objects == len(synthesis.manifests)


def test_output_is_byte_identical_across_runs_and_hash_seeds(project: Path, tmp_path: Path) -> None:
    other = copy_project(tmp_path)
    assert run_aiplane(other, "synth", seed="12345").returncode == 0
    assert tree_digest(other / "manifests") == tree_digest(project / "manifests")


def test_committed_manifests_are_what_the_code_generates(project: Path) -> None:
    assert tree_digest(project / "manifests") == tree_digest(REPO / "manifests"), (
        "run `make synth` and commit manifests/"
    )


def test_layout_one_object_per_file_with_kustomizations(project: Path) -> None:
    root = project / "manifests"
    for folder in (
        "platform/packages",
        "platform/apis",
        "environments/prod",
        "clusters/prod",
        "environments/dev",
        "clusters/staging",
    ):
        assert (root / folder / "kustomization.yaml").is_file(), folder
    assert (root / "platform/apis/compositeresourcedefinition-gpunodepools.ai.aiplane.io.yaml").is_file()
    assert (root / "environments/prod/gpunodepool-llm-inference.yaml").is_file()
    text = "".join(p.read_text() for p in root.rglob("*.yaml"))
    assert "${" not in text, "Flux post-build substitution would rewrite it"


def test_check_passes_when_current_and_names_drifted_files(project: Path) -> None:
    assert run_aiplane(project, "synth", "--check").returncode == 0
    stale = project / "manifests/platform/apis/configmap-left-over.yaml"
    stale.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: left-over}\n")
    changed = project / "manifests/environments/dev/modelendpoint-sentiment.yaml"
    original = changed.read_text()
    changed.write_text(original.replace("instanceCount: 1", "instanceCount: 3"))
    result = run_aiplane(project, "synth", "--check")
    assert result.returncode == 1
    assert "removed  manifests/platform/apis/configmap-left-over.yaml" in result.stderr
    assert "changed  manifests/environments/dev/modelendpoint-sentiment.yaml" in result.stderr
    assert run_aiplane(project, "synth").returncode == 0
    assert not stale.exists(), "stale files are removed"
    assert changed.read_text() == original


def test_bad_input_exits_2_and_leaves_manifests_untouched(project: Path) -> None:
    before = tree_digest(project / "manifests")
    env_file = project / "environments/prod.yaml"
    good = env_file.read_text()
    try:
        env_file.write_text(good.replace("instanceTypes: [p4d.24xlarge]", "instanceTypes: [p4d.24xlarg]"))
        result = run_aiplane(project, "synth")
        assert result.returncode == 2
        assert "environments/prod.yaml:" in result.stderr and "p4d.24xlarge" in result.stderr
        assert tree_digest(project / "manifests") == before
    finally:
        env_file.write_text(good)


def test_env_option_rewrites_only_that_environment(project: Path) -> None:
    prod_file = project / "manifests/environments/prod/modelendpoint-fraud-scoring.yaml"
    prod_before = prod_file.read_bytes()
    env_file = project / "environments/dev.yaml"
    good = env_file.read_text()
    try:
        env_file.write_text(good.replace("maxSize: 4", "maxSize: 3"))
        (project / "environments/prod.yaml").write_text("not: [valid")  # not read with --env dev
        result = run_aiplane(project, "synth", "--env", "dev")
        assert result.returncode == 0, result.stderr
        assert (
            "maxSize: 3" in (project / "manifests/environments/dev/gpunodepool-experiments.yaml").read_text()
        )
        assert prod_file.read_bytes() == prod_before
    finally:
        env_file.write_text(good)
        shutil.copy2(REPO / "environments/prod.yaml", project / "environments/prod.yaml")
        assert run_aiplane(project, "synth").returncode == 0


def test_a_failure_while_swapping_restores_the_old_tree(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from aiplane.errors import SystemFailure
    from aiplane.synthesis import manifest_tree

    root = project / "manifests"
    before = tree_digest(root)
    real_rename = os.rename
    calls = {"n": 0}

    def failing_rename(src: str | Path, dst: str | Path) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the swap-in of the new tree
            raise OSError(28, "No space left on device")
        real_rename(src, dst)

    monkeypatch.setattr(manifest_tree.os, "rename", failing_rename)
    with pytest.raises(SystemFailure, match="No space left on device"):
        manifest_tree.write_tree(root, {"platform/x.yaml": "a: 1\n"}, ["platform"])
    monkeypatch.undo()
    assert tree_digest(root) == before
    assert not [p for p in project.iterdir() if p.name.startswith(".manifests-")], "no staging left behind"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed on this machine")
def test_kubectl_kustomize_builds_every_folder(project: Path) -> None:
    folders = sorted({p.parent for p in (project / "manifests").rglob("kustomization.yaml")})
    assert len(folders) >= 9  # platform, its packages and apis, and per environment its objects and cluster
    for folder in folders:
        result = subprocess.run(
            ["kubectl", "kustomize", str(folder)], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"{folder}: {result.stderr}"
        assert "kind:" in result.stdout


def test_flux_kustomizations_chain_packages_to_environment(synthesis: Synthesis) -> None:
    flux = {
        m.obj["metadata"]["name"]: m.obj for m in synthesis.manifests if m.path.startswith("clusters/prod/")
    }
    assert set(flux) == {"aiplane-packages", "aiplane-platform-apis", "aiplane-prod"}
    order = ["aiplane-packages", "aiplane-platform-apis", "aiplane-prod"]
    for earlier, later in itertools.pairwise(order):
        assert flux[later]["spec"]["dependsOn"] == [{"name": earlier}]
    for obj in flux.values():
        assert obj["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}
        assert obj["spec"]["prune"] is True and obj["spec"]["wait"] is True
        assert (REPO / obj["spec"]["path"]).parent.exists() or obj["spec"]["path"].startswith("./manifests/")
    xrd_health = flux["aiplane-platform-apis"]["spec"]["healthCheckExprs"][0]
    assert xrd_health["kind"] == "CompositeResourceDefinition" and "Established" in xrd_health["current"]


def test_validation_failure_is_not_counted_as_no_schema(synthesis: Synthesis) -> None:
    report = validate_documents(synthesis.objects(), SchemaRegistry.default(), strict=False)
    assert not [f for f in report.findings if f.severity is Severity.NO_SCHEMA]
