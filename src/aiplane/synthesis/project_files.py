"""The files `aiplane synth` writes beside manifests/: the environment files' JSON Schema
(schemas/environment.schema.json) and the platform API reference (docs/apis/). Built in memory from the same
synthesis, checked by `synth --check`, and written only after the synthesis validated, each folder swapped in
atomically like manifests/ (manifest_tree.write_tree), under the lock synth already holds."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from aiplane.errors import InputError, SystemFailure
from aiplane.project import Settings
from aiplane.synthesis import api_docs, environment_schema
from aiplane.synthesis.manifest_tree import TreeDiff, diff_tree, recover, write_tree
from aiplane.synthesis.pipeline import Synthesis


def project_files(synthesis: Synthesis, settings: Settings) -> dict[str, str]:
    """Every generated file outside manifests/, by path relative to the project root."""
    manifests = settings.manifests.relative_to(settings.root).as_posix()
    apis = synthesis.project.apis
    files = {environment_schema.SCHEMA_PATH: environment_schema.render(apis)}
    objects = [(f"{manifests}/{m.path}", m.obj) for m in synthesis.manifests]
    keys = {kind: api.environment_key for kind, api in apis.items()}
    files.update(api_docs.render_docs(objects, keys))
    for path, text in files.items():
        if "${" in text:  # the same promise as manifests/ (pipeline.Synthesis.files)
            raise InputError.single(path, "contains `${`, which no file synth writes may contain")
    return dict(sorted(files.items()))


def _by_folder(files: dict[str, str]) -> dict[str, dict[str, str]]:
    folders: dict[str, dict[str, str]] = {}
    for path, text in files.items():
        pure = PurePosixPath(path)
        folders.setdefault(pure.parent.as_posix(), {})[pure.name] = text
    return folders


def _owned(folder: Path, names: dict[str, str]) -> list[str]:
    """docs/apis is synth's alone (a page whose API is gone is removed); in schemas/ only the schema is."""
    if folder.as_posix().endswith(api_docs.DOCS_FOLDER) and folder.is_dir() and not folder.is_symlink():
        return sorted({*names, *(p.name for p in folder.iterdir())})
    return sorted(names)


def diff_project_files(root: Path, files: dict[str, str]) -> list[tuple[str, str]]:
    """(added|changed|removed, path relative to the root) for every generated file that differs on disk."""
    out: list[tuple[str, str]] = []
    for folder, names in _by_folder(files).items():
        where = root / folder
        try:
            diff: TreeDiff = diff_tree(where, names, _owned(where, names))
        except OSError as error:
            raise SystemFailure.from_os_error(str(error.filename or where), "cannot read", error) from None
        for label, paths in (("added", diff.added), ("changed", diff.changed), ("removed", diff.removed)):
            out += [(label, f"{folder}/{p}") for p in paths]
    return out


def write_project_files(root: Path, files: dict[str, str]) -> None:
    """Write every folder that differs (call under synth's output lock)."""
    for folder, names in _by_folder(files).items():
        where = root / folder
        owned = _owned(where, names)
        recover(where)
        if not diff_tree(where, names, owned).clean:
            write_tree(where, names, owned)
