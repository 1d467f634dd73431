"""`aiplane docs`: (re)write the platform API reference, docs/apis/<kind>.md, from the XRDs and Compositions,
without the rest of a synth (no validation run, manifests/ untouched, no Node). `aiplane synth` writes the
same files and `synth --check` fails when they are stale."""

from __future__ import annotations

from aiplane.project import load_settings
from aiplane.synthesis import api_docs
from aiplane.synthesis.manifest_tree import output_lock
from aiplane.synthesis.pipeline import synthesize
from aiplane.synthesis.project_files import diff_project_files, project_files, write_project_files


def run() -> int:
    settings = load_settings()
    synthesis = synthesize(settings)
    docs = {p: t for p, t in project_files(synthesis, settings).items() if p.startswith(f"{api_docs.DOCS_FOLDER}/")}
    stale = diff_project_files(settings.root, docs)
    if not stale:
        print(f"{api_docs.DOCS_FOLDER}/ is up to date ({len(docs)} files)")
        return 0
    with output_lock(settings.manifests):  # the lock `aiplane synth` takes: never two writers at once
        write_project_files(settings.root, docs)
    for label, path in stale:
        print(f"{label} {path}")
    return 0
