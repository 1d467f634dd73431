"""`aiplane validate`: check YAML manifests against the real schemas and print a report.

Folders are read recursively, except `kustomization.yaml` files: they are kustomize build
instructions, not Kubernetes objects. With no PATHS, the project's manifests/ folder is read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click

from aiplane.errors import InputError
from aiplane.project import find_root, load_settings
from aiplane.validation import SchemaRegistry, validate_documents
from aiplane.validation.report import JSON_FORMAT_VERSION
from aiplane.yamlio import iter_yaml_files, load_paths

KUSTOMIZE_FILES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})


def manifest_files(paths: list[str]) -> Iterator[Path]:
    """The YAML files to validate: explicit files as given, folders without their kustomization files."""
    for raw in paths:
        if Path(raw).is_dir():
            yield from (f for f in iter_yaml_files([raw]) if f.name not in KUSTOMIZE_FILES)
        else:
            yield from iter_yaml_files([raw])


def _shown(path: Path) -> str:
    """A path as findings show it: relative to the working directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run(paths: list[str], crd_dirs: list[str], strict: bool, fmt: str) -> int:
    """Exit status: 0 valid, 1 invalid (InputError, raised for unreadable input, becomes 2 in the CLI;
    with --format json it is printed as `inputErrors` on stdout too, so a machine reader gets a result)."""
    try:
        return _validate(paths, crd_dirs, strict, fmt)
    except InputError as err:
        if fmt == "json":
            root = find_root() or Path.cwd()
            # Imported here: the policy package (rules, models, catalogs) is most of this command's start-up,
            # and only bad input needs its location format.
            from aiplane.policy.report import input_error_json

            document = {
                "version": JSON_FORMAT_VERSION,
                "ok": False,
                "inputErrors": [input_error_json(p, root) for p in err.problems],
            }
            click.echo(json.dumps(document, indent=2))
        raise


def _validate(paths: list[str], crd_dirs: list[str], strict: bool, fmt: str) -> int:
    extra: list[Path] = []
    if not paths:
        settings = load_settings()
        paths = [_shown(settings.manifests)]
        extra.extend(settings.crds)
    elif find_root() is not None:
        extra.extend(load_settings().crds)
    extra.extend(Path(d) for d in crd_dirs)
    registry = SchemaRegistry.default(extra=extra)
    files = list(manifest_files(paths))
    if any(str(f) == "-" for f in files):
        raise InputError.single("-", "reading standard input is not supported; pass files or folders")
    report = validate_documents(load_paths(files), registry, strict=strict)
    if fmt == "json":
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        click.echo(report.as_text())
    return 0 if report.ok else 1
