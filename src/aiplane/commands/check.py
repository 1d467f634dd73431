"""`aiplane check`: the pre-Git gate. Synthesizes in memory (or reads manifests/ with --manifests),
validates every object strictly and runs every guardrail rule, honouring the environment files' waivers.
Findings are placed at the environment file line (or compositions/ module) they come from.

Exit 0: clean (advisories and waived findings allowed); 1: a mandatory violation or an invalid object;
2: bad input — with --format json|sarif|markdown the input errors are printed in that format too.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aiplane.commands.validate import manifest_files
from aiplane.console import progress
from aiplane.errors import InputError, Problem
from aiplane.policy import all_rules, default_context, load_policy_config, run_rules
from aiplane.policy.config import DEFAULT_CONFIG, check_config
from aiplane.policy.context import RuleContext
from aiplane.policy.model import Rule
from aiplane.policy.report import Results, as_json, as_markdown, as_sarif, as_text, locate_invalid
from aiplane.policy.waivers import waiver_field, waivers_of
from aiplane.project import Settings, display_path, find_root, load_settings
from aiplane.synthesis.sources import SourceLocation, SourceMap, build_source_map
from aiplane.validation import validate_documents
from aiplane.yamlio import load_paths

if TYPE_CHECKING:
    from aiplane.synthesis.pipeline import Synthesis

FORMATTERS = {"json": as_json, "sarif": as_sarif, "markdown": as_markdown, "text": as_text}


def gather(
    settings: Settings, envs: list[str], from_manifests: bool
) -> tuple[list[dict[str, Any]], SourceMap, Synthesis | None]:
    """The objects to judge (the platform plus the selected environments' objects), where each came from, and
    the synthesis that made them (None when read from manifests/), whose validated specs the rules reuse."""
    if not from_manifests:
        from aiplane.synthesis.pipeline import synthesize  # not imported by --manifests

        synthesis = synthesize(settings, envs)
        sources = build_source_map(
            settings, synthesis.environments, ((m.path, m.obj) for m in synthesis.manifests)
        )
        return synthesis.objects(), sources, synthesis
    root = settings.manifests
    folders = [root / "platform", *([root / "environments" / e for e in envs] or [root / "environments"])]
    missing = [f for f in folders if not f.is_dir()]
    if missing:
        raise InputError.single(
            display_path(missing[0]), "no such folder: run `aiplane synth` first, or check --env"
        )
    docs = load_paths(list(manifest_files([str(f) for f in folders])))
    sources = SourceMap(settings.root)
    sources.add_documents(docs)
    return [d.obj for d in docs if isinstance(d.obj, dict)], sources, None


def judge(
    settings: Settings,
    rules: tuple[Rule, ...] | list[Rule],
    envs: list[str],
    from_manifests: bool,
    config_path: str | None,
) -> Results:
    config_file = Path(config_path) if config_path else settings.root / DEFAULT_CONFIG
    try:
        config = load_policy_config(settings, Path(config_path) if config_path else None)
    except UnicodeDecodeError as err:
        raise InputError.single(
            display_path(config_file), f"not UTF-8 text (byte {err.start}: {err.reason})"
        ) from None
    except RecursionError:
        raise InputError.single(display_path(config_file), "nested too deeply to read") from None
    check_config(config, rules, display_path(config_file))
    with progress("Validating against the CRDs and running every guardrail…"):
        objects, sources, synthesis = gather(settings, envs, from_manifests)
        ctx = default_context(settings, synthesis)
        _refuse_unknown_waived_rules(objects, rules, ctx, sources)
        report = validate_documents(objects, ctx.registry, strict=True, failing_only=True)
        invalid = locate_invalid(report.findings, sources)  # failing ones only
        violations = run_rules(objects, ctx, config, rules, sources=sources)
    return Results(violations, invalid, rules=rules, root=settings.root)


def _refuse_unknown_waived_rules(
    objects: list[dict[str, Any]], rules: tuple[Rule, ...] | list[Rule], ctx: RuleContext, sources: SourceMap
) -> None:
    """A waiver naming no rule is a typo that would waive nothing: an input error at its line."""
    known = {r.id for r in rules}
    problems = []
    for obj in objects:
        for index, waiver in enumerate(waivers_of(obj, ctx) or []):
            if waiver.rule not in known:
                field = f"{waiver_field(index)}.rule"
                where = sources.locate(obj, field) or SourceLocation("pyproject.toml")
                close = difflib.get_close_matches(waiver.rule, sorted(known), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(
                    Problem(
                        display_path(ctx.settings.root / where.file),
                        f"waiver for unknown rule {waiver.rule!r}{hint}",
                        where.line,
                        where.column,
                        field,
                    )
                )
    if problems:
        raise InputError(problems)


def run(envs: list[str], fmt: str, from_manifests: bool, config_path: str | None) -> int:
    rules = all_rules()
    try:
        settings = load_settings()
        results = judge(settings, rules, envs, from_manifests, config_path)
    except InputError as err:
        if fmt != "text":  # a machine reader (code scanning, a PR comment) gets the errors in its format too
            root = find_root() or Path.cwd()
            click.echo(FORMATTERS[fmt](Results(input_errors=err.problems, rules=rules, root=root)))
        raise
    click.echo(FORMATTERS[fmt](results))
    return 0 if results.ok else 1
