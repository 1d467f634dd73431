"""`aiplane synth`: synthesize, validate strictly, then write manifests/ atomically (or `--check` it)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aiplane.console import paint, progress
from aiplane.errors import SystemFailure
from aiplane.project import load_settings
from aiplane.synthesis.manifest_tree import (
    TreeDiff,
    bootstrap_folders,
    diff_tree,
    output_lock,
    recover,
    write_tree,
)
from aiplane.synthesis.pipeline import synthesize
from aiplane.synthesis.project_files import diff_project_files, project_files, write_project_files
from aiplane.validation import SchemaRegistry, validate_documents


def run(envs: list[str], check: bool) -> int:
    settings = load_settings()
    with progress("Synthesizing platform APIs and environments…"):
        # cdk8s packages what is written; a check compares the same objects without starting Node.
        synthesis = synthesize(settings, envs, cdk8s=not check)
        files = synthesis.files(_bootstrapped(settings.manifests))
    with progress(f"Validating {len(synthesis.manifests)} objects against the CRDs (strict)…"):
        registry = SchemaRegistry.default(extra=list(settings.crds))
        report = validate_documents(synthesis.objects(), registry, strict=True, failing_only=True)
    if not report.ok:
        for finding in report.findings:  # failing ones only
            kind_name = paint(f"{finding.kind}/{finding.name}", sys.stderr, fg="red")
            click.echo(f"{kind_name} {finding.field}: {finding.severity}: {finding.message}", err=True)
        click.echo("synth: the synthesized objects are invalid; manifests/ left unchanged", err=True)
        return 1

    root = settings.manifests
    rel = root.relative_to(settings.root).as_posix()
    # The environment schema and docs/apis/ describe every environment: only a full synth writes them.
    extra = {} if envs else project_files(synthesis, settings)
    if check:
        diff = _diff(root, files, synthesis.owned_dirs)
        stale = diff_project_files(settings.root, extra)
        if diff.clean and not stale:
            print(f"{rel}/ is up to date ({len(files)} files)" + (f", and {len(extra)} generated files" if extra else ""))
            return 0
        print("out of date; run `aiplane synth` (or `make synth`) and commit:", file=sys.stderr)
        for label, paths in (("added", diff.added), ("changed", diff.changed), ("removed", diff.removed)):
            for p in paths:
                print(f"  {label:8} {rel}/{p}", file=sys.stderr)
        for label, path in stale:
            print(f"  {label:8} {path}", file=sys.stderr)
        return 1
    with output_lock(root):
        if recover(root):
            click.echo(f"synth: restored {rel}/ from the backup an interrupted synth left", err=True)
            files = synthesis.files(_bootstrapped(root))
        diff = _diff(root, files, synthesis.owned_dirs)
        stale = diff_project_files(settings.root, extra)
        if diff.clean and not stale:
            print(f"{rel}/ already up to date ({len(files)} files)")
            return 0
        if not diff.clean:
            write_tree(root, files, synthesis.owned_dirs)
        write_project_files(settings.root, extra)
    for label, path in stale:
        print(f"{label} {path}")
    print(
        f"wrote {rel}/: {len(diff.added)} added, {len(diff.changed)} changed, {len(diff.removed)} removed "
        f"({len(files)} files, {len(synthesis.environments)} environments)"
    )
    return 0


def _bootstrapped(root: Path) -> set[str]:
    try:
        return bootstrap_folders(root)
    except OSError as error:
        raise SystemFailure.from_os_error(str(error.filename or root), "cannot read", error) from None


def _diff(root: Path, files: dict[str, str], owned: list[str]) -> TreeDiff:
    try:
        return diff_tree(root, files, owned)
    except OSError as error:
        raise SystemFailure.from_os_error(str(error.filename or root), "cannot read", error) from None
