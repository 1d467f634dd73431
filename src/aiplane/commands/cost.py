"""`aiplane cost`: worst-case and expected USD per hour by environment, cost-center and workload, at each
environment's region's prices; with `--diff REF`, what a change does to them compared with the environments
at a git revision. A figure that rests on an uncertain price says so in every format; the rendering lives in
aiplane.finops.report."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import click

from aiplane.console import progress
from aiplane.errors import InputError
from aiplane.finops import report
from aiplane.finops.comparison import compare
from aiplane.finops.costing import environment_costs
from aiplane.project import Settings, load_settings
from aiplane.synthesis.discovery import discover
from aiplane.synthesis.environment import ENVIRONMENT_SUFFIXES, load_environments


@contextmanager
def environments_at(settings: Settings, ref: str) -> Iterator[Path]:
    """A temporary folder holding the environment files as they were at git revision `ref`."""
    # Imported here: only `cost --diff` reads git (subprocess), plain `cost` imports nothing that needs it.
    import tempfile

    from aiplane.revision import paths_at, texts_at

    rel = settings.environments.relative_to(settings.root).as_posix()
    listed = paths_at(settings.root, ref, rel)
    if not listed:
        raise InputError.single(ref, f"cannot read {rel}/ at this git revision: it holds no files there")
    paths = [p for p in listed if "/" not in p[len(rel) + 1 :] and p.endswith(ENVIRONMENT_SUFFIXES)]
    with tempfile.TemporaryDirectory(prefix="aiplane-cost-") as tmp:
        folder = Path(tmp)
        for path, text in zip(paths, texts_at(settings.root, ref, paths), strict=True):
            (folder / path[len(rel) + 1 :]).write_text(text, encoding="utf-8", newline="")
        yield folder


def _at_revision(err: InputError, folder: Path, shown: str) -> InputError:
    """The problems of files read from the temporary copy, named as git names them (`REF:environments/x.yaml`)."""
    prefixes = {str(folder), str(folder.resolve())}

    def renamed(path: str) -> str:
        prefix = next((p for p in prefixes if path.startswith(p)), None)
        return path if prefix is None else shown + path[len(prefix) :]

    return InputError([replace(p, path=renamed(p.path)) for p in err.problems])


def run(envs: list[str], fmt: str, diff: str | None = None, show_all: bool = False) -> int:
    settings = load_settings()
    project = discover(settings)
    catalog = project.catalog
    after = environment_costs(
        load_environments(settings.environments, project, envs, root=settings.root), catalog
    )
    if diff is None:
        render = {"json": report.costs_json, "markdown": report.costs_markdown, "text": report.costs_text}[fmt]
        click.echo(render(after))
        return 0
    with progress(f"Pricing the environments at {diff}…"), environments_at(settings, diff) as folder:
        wanted = [e for e in envs if (folder / f"{e}.yaml").exists()]
        # With --env, environments that did not exist at REF count as new (nothing before).
        try:
            before = (
                []
                if envs and not wanted
                else environment_costs(load_environments(folder, project, wanted, allow_empty=True), catalog)
            )
        except InputError as err:
            rel = settings.environments.relative_to(settings.root).as_posix()
            raise _at_revision(err, folder, f"{diff}:{rel}") from None
    comparison = compare(diff, before, after)
    render_diff = {
        "json": report.comparison_json,
        "markdown": report.comparison_markdown,
        "text": report.comparison_text,
    }[fmt]
    click.echo(render_diff(comparison, show_all))
    return 0
