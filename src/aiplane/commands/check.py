"""`aiplane check`: the pre-Git gate. Synthesizes in memory (or reads manifests/ with --manifests),
validates every object strictly and runs every guardrail rule.

Exit 0: clean (advisories allowed); 1: a mandatory violation or an invalid object; 2: bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from aiplane.commands.validate import manifest_files
from aiplane.console import progress
from aiplane.errors import InputError
from aiplane.policy import all_rules, default_context, load_policy_config, run_rules
from aiplane.policy.config import DEFAULT_CONFIG, check_config
from aiplane.policy.report import as_json, as_markdown, as_sarif, as_text
from aiplane.project import Settings, display_path, load_settings
from aiplane.synthesis.pipeline import Synthesis, synthesize
from aiplane.validation import validate_documents
from aiplane.yamlio import load_paths


def gather(settings: Settings, envs: list[str], from_manifests: bool) -> tuple[list[dict[str, Any]], Synthesis | None]:
    """The objects to judge (the platform plus the selected environments' objects), and the synthesis they
    come from unless they were read from manifests/."""
    if not from_manifests:
        synthesis = synthesize(settings, envs)
        return synthesis.objects(), synthesis
    root = settings.manifests
    folders = [root / "platform", *([root / "environments" / e for e in envs] or [root / "environments"])]
    missing = [f for f in folders if not f.is_dir()]
    if missing:
        raise InputError.single(display_path(missing[0]), "no such folder: run `aiplane synth` first, or check --env")
    docs = load_paths(list(manifest_files([str(f) for f in folders])))
    return [d.obj for d in docs if isinstance(d.obj, dict)], None


def run(envs: list[str], fmt: str, from_manifests: bool, config_path: str | None) -> int:
    settings = load_settings()
    rules = all_rules()
    config_file = Path(config_path) if config_path else settings.root / DEFAULT_CONFIG
    try:
        config = load_policy_config(settings, Path(config_path) if config_path else None)
    except UnicodeDecodeError as err:
        raise InputError.single(
            display_path(config_file), f"not UTF-8 text (byte {err.start}: {err.reason})"
        ) from None
    except RecursionError:
        raise InputError.single(display_path(config_file), "nested too deeply to read") from None
    check_config(config, rules, config_path or "policy config")
    with progress("Validating against the CRDs and running every guardrail…"):
        objects, synthesis = gather(settings, envs, from_manifests)
        ctx = default_context(settings, synthesis)
        report = validate_documents(objects, ctx.registry, strict=True)
        invalid = [f for f in report.findings if f.fails(strict=True)]
        violations = run_rules(objects, ctx, config, rules)
    if fmt == "json":
        click.echo(as_json(violations, invalid))
    elif fmt == "sarif":
        click.echo(
            as_sarif(violations, invalid, rules, settings.manifests.relative_to(settings.root).as_posix())
        )
    elif fmt == "markdown":
        click.echo(as_markdown(violations, invalid))
    else:
        click.echo(as_text(violations, invalid))
    return 1 if invalid or any(v.blocking for v in violations) else 0
