"""docs/apis/: a Markdown reference per platform API, generated from the XRDs and Compositions, byte-stable,
written by synth and checked by `synth --check`."""

from __future__ import annotations

from pathlib import Path

from project_copy import REPO, copy_project, run_aiplane, tree_digest

from aiplane.project import Settings
from aiplane.synthesis.api_docs import DOCS_FOLDER
from aiplane.synthesis.pipeline import Synthesis
from aiplane.synthesis.project_files import project_files


def docs_of(synthesis: Synthesis, settings: Settings) -> dict[str, str]:
    return {p: t for p, t in project_files(synthesis, settings).items() if p.startswith(DOCS_FOLDER)}


def test_the_committed_reference_is_what_synth_renders(synthesis: Synthesis, settings: Settings) -> None:
    docs = docs_of(synthesis, settings)
    assert sorted(docs) == [
        f"{DOCS_FOLDER}/{name}"
        for name in ("README.md", "acceleratorquota.md", "gpunodepool.md", "modelbucket.md", "modelendpoint.md")
    ]
    for path, text in docs.items():
        assert (REPO / path).read_text() == text, f"{path} is stale: run `aiplane synth`"
    assert docs == docs_of(synthesis, settings)  # byte-stable


def test_a_page_says_fields_defaults_constraints_columns_what_it_composes_and_shows_an_xr(
    synthesis: Synthesis, settings: Settings
) -> None:
    page = docs_of(synthesis, settings)[f"{DOCS_FOLDER}/modelbucket.md"]
    assert "| `spec.bucketName` | string | yes |" in page and "**immutable**" in page
    assert "| `spec.versioning` | boolean |  | `true` |" in page  # the default
    assert "| `spec.purpose` | string | yes |  | one of `\"artifacts\"`, `\"datasets\"`, `\"captures\"` |" in page
    assert "| BUCKET | string | `.spec.bucketName` |" in page  # printer column
    assert "| `bucket` | Bucket | `s3.aws.m.upbound.io/v1beta1` |" in page  # composed managed resource
    assert "### Composition `modelbuckets-s3`" in page
    assert "```yaml\napiVersion: ai.aiplane.io/v1alpha1\nkind: ModelBucket\n" in page  # an example XR
    assert "items under `buckets:`" in page


def test_synth_check_fails_on_a_stale_page_and_synth_restores_it(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    assert run_aiplane(project, "synth").returncode == 0
    written = tree_digest(project / DOCS_FOLDER)
    assert run_aiplane(project, "synth", "--check").returncode == 0
    (project / DOCS_FOLDER / "modelbucket.md").write_text("edited by hand\n")
    (project / DOCS_FOLDER / "oldkind.md").write_text("an API that is gone\n")
    (project / "schemas/environment.schema.json").write_text("{}\n")
    check = run_aiplane(project, "synth", "--check")
    assert check.returncode == 1
    for line in (
        f"changed  {DOCS_FOLDER}/modelbucket.md",
        f"removed  {DOCS_FOLDER}/oldkind.md",
        "changed  schemas/environment.schema.json",
    ):
        assert line in check.stderr
    # `aiplane docs` mends docs/apis/ only; synth mends the rest.
    docs = run_aiplane(project, "docs")
    assert docs.returncode == 0 and f"changed {DOCS_FOLDER}/modelbucket.md" in docs.stdout
    assert tree_digest(project / DOCS_FOLDER) == written
    assert run_aiplane(project, "docs").stdout.startswith(f"{DOCS_FOLDER}/ is up to date")
    assert "changed  schemas/environment.schema.json" in run_aiplane(project, "synth", "--check").stderr
    assert run_aiplane(project, "synth").returncode == 0
    assert run_aiplane(project, "synth", "--check").returncode == 0


def test_a_failed_synth_leaves_the_generated_files_as_they_were(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    assert run_aiplane(project, "synth").returncode == 0
    before = {p: tree_digest(project / p) for p in (DOCS_FOLDER, "schemas", "manifests")}
    xrd = project / "xrds/modelbucket.py"
    xrd.write_text(xrd.read_text().replace('PrinterColumn("BUCKET"', 'PrinterColumn("BUCKETS"'))
    env = project / "environments/dev.yaml"
    env.write_text(env.read_text().replace("budgetPerHour: 10", "budgetPerHour: ten"))
    assert run_aiplane(project, "synth").returncode == 2
    assert {p: tree_digest(project / p) for p in before} == before
