"""`aiplane init [DIR] [--apis copy|dependency] [--force]`: start a platform repository that works at once.

What is the team's own (pyproject.toml, Makefile, pre-commit and CI wiring, README) is rendered from the jinja2
templates in aiplane/templates/init/; what aiplane ships and the team takes over (the platform APIs, the
example environment, the Pulumi stacks and the CrossGuard pack) is copied from aiplane/shipped/, the very
files of aiplane's own repository, so a new repository starts from what aiplane's tests keep working. Then
`aiplane synth` writes manifests/ (the platform, the environment and the Flux cluster layout) there."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

import jinja2

from aiplane import __version__
from aiplane.errors import InputError, SystemFailure
from aiplane.project import (
    DEFAULT_DOMAIN,
    DEFAULT_FUNCTION_PACKAGE,
    DEFAULT_GROUP,
    DEFAULT_MONITOR_IMAGE,
    entry_points,
)
from aiplane.synthesis.discovery import API_ENTRY_POINTS

# The example environment the new repository starts with (aiplane's own dev environment) and its stacks.
EXAMPLE_ENVIRONMENT = "dev"
# Template → path in the new repository.
RENDERED = {
    "pyproject.toml.j2": "pyproject.toml",
    "Makefile.j2": "Makefile",
    "README.md.j2": "README.md",
    "gitignore.j2": ".gitignore",
    "pre-commit-config.yaml.j2": ".pre-commit-config.yaml",
    "ci-workflow.yml.j2": ".github/workflows/aiplane.yml",
    # aiplane's own pack installs aiplane from its checkout; a new repository's installs itself with [pulumi].
    "policypack-requirements.txt.j2": "policypacks/aiplane-guardrails/requirements.txt",
}
# What is copied from aiplane/shipped/ (folder, file patterns); the APIs only with `--apis copy`.
SHIPPED_APIS = (("xrds", ("*.py",)), ("compositions", ("*.py",)))
SHIPPED_ALWAYS = (
    ("environments", (f"{EXAMPLE_ENVIRONMENT}.yaml",)),
    ("stacks/platform", ("*.py", "Pulumi.yaml", f"Pulumi.{EXAMPLE_ENVIRONMENT}.yaml")),
    ("stacks/aws-foundation", ("*.py", "Pulumi.yaml", f"Pulumi.{EXAMPLE_ENVIRONMENT}.yaml")),
    ("policypacks/aiplane-guardrails", ("*.py", "*.yaml", "*.json", "*.md")),
)


def project_name(target: Path) -> str:
    """A distribution name (PEP 508) from the folder's name."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", target.resolve().name).strip("-._").lower()
    return name or "platform"


def _shipped() -> Traversable:
    return resources.files("aiplane").joinpath("shipped")


def _matching(folder: Traversable, patterns: tuple[str, ...]) -> Iterator[Traversable]:
    """Files of `folder` matching a pattern; private modules (`_x.py`) stay behind, a program's __main__.py not."""
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        private = entry.name.startswith("_") and entry.name != "__main__.py"
        if entry.is_file() and not private and any(Path(entry.name).match(p) for p in patterns):
            yield entry


def planned_files(apis: str, name: str) -> dict[str, str]:
    """Every file of the new repository (relative path → text), rendered and copied, before anything is written."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("aiplane", "templates/init"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # TOML, YAML, Makefile and Markdown, not HTML
    )
    values = {
        "name": name,
        "apis": apis,
        "aiplane_version": __version__,
        "group": DEFAULT_GROUP,
        "domain": DEFAULT_DOMAIN,
        "ethics_monitor_image": DEFAULT_MONITOR_IMAGE,
        "function_package": DEFAULT_FUNCTION_PACKAGE,
    }
    files: dict[str, str] = {}
    shipped = _shipped()
    for folder, patterns in (*SHIPPED_APIS, *SHIPPED_ALWAYS) if apis == "copy" else SHIPPED_ALWAYS:
        source = shipped.joinpath(folder)
        copied = list(_matching(source, patterns))
        if not copied:
            raise SystemFailure(str(source), f"this aiplane installation lacks its shipped {folder}/ (a broken wheel?)")
        for entry in copied:
            files[f"{folder}/{entry.name}"] = entry.read_text(encoding="utf-8")
    files.update({path: environment.get_template(template).render(values) for template, path in RENDERED.items()})
    return files


def _refuse_target(target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise InputError.single(str(target), "exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise InputError.single(
            str(target), "is not empty; choose an empty or new folder, or pass --force to write into it"
        )


def _refuse_missing_apis(apis: str) -> None:
    if apis == "dependency" and not list(entry_points(group=API_ENTRY_POINTS)):
        raise InputError.single(
            "--apis dependency",
            "no installed package provides platform APIs; install the aiplane-apis distribution "
            "(pip install aiplane-apis) or use --apis copy",
        )


def write_files(target: Path, files: dict[str, str]) -> None:
    try:
        for relative, text in files.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise SystemFailure.from_os_error(str(target), "cannot write the new repository", err) from None


def run(directory: str, apis: str, force: bool, synth: bool) -> int:
    target = Path(directory)
    _refuse_target(target, force)
    _refuse_missing_apis(apis)
    files = planned_files(apis, project_name(target))
    write_files(target, files)
    print(f"aiplane init: wrote {len(files)} files into {target}/ (platform APIs: {apis})")
    if not synth:
        print(f"next: cd {target} && aiplane synth && aiplane check")
        return 0
    from aiplane.commands import synth as synth_command

    with contextlib.chdir(target):
        code = synth_command.run(envs=[], check=False)
    if code == 0:
        print(f"next: cd {target} && aiplane check; `git init` and commit; `pre-commit install`")
    return code

