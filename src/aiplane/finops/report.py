"""`aiplane cost` in text, JSON and markdown, for the cost as it is and for a change (`--diff REF`): `$` on every
amount, $/h and $/month (hourly × 730 h, Infracost's convention), worst case and expected, added / removed /
changed marked, workloads over their own maxCostPerHour and environments over budget flagged. The markdown is a
PR comment that starts with a hidden marker, so a CI job can find and update its one comment."""

from __future__ import annotations

import json
from typing import Any

from aiplane.console import paint
from aiplane.finops.comparison import CostComparison, EnvironmentDelta, WorkloadDelta
from aiplane.finops.costing import HOURS_PER_MONTH, EnvironmentCost, WorkloadCost

JSON_VERSION = 2
COMMENT_MARKER = "<!-- aiplane-cost-comment -->"
UNCERTAIN_MARK = " (uncertain price)"
MONTH_NOTE = (
    f"$/month = $/h × {HOURS_PER_MONTH} h (Infracost's convention). Worst case: every pool and endpoint at its "
    "maximum scale at on-demand prices; expected: spot capacity at the environment's expected spot discount."
)
SIGNS = {"added": "+", "removed": "-", "changed": "~", "unchanged": " "}


def usd(value: float) -> str:
    return f"${value:,.2f}/h"


def usd_month(value: float) -> str:
    return f"${value * HOURS_PER_MONTH:,.0f}/month"


def signed(value: float, per_month: bool = False) -> str:
    """`+$1.50/h` / `-$1.50/h` (or per month); a change too small to show is `+$0.00/h`."""
    amount = usd_month(abs(value)) if per_month else usd(abs(value))
    return ("-" if round(value * (HOURS_PER_MONTH if per_month else 100)) < 0 else "+") + amount


def _r(value: float) -> float:
    return round(value, 4)


# ---------------------------------------------------------------- the cost as it is


def _workload_json(w: WorkloadCost) -> dict[str, Any]:
    return {
        "kind": w.kind,
        "name": w.name,
        "costCenter": w.cost_center,
        "tier": w.tier,
        "worstCase": _r(w.worst_case),
        "expected": _r(w.expected),
        "maxCostPerHour": w.max_cost_per_hour,
        "overMaxCostPerHour": w.over_own_limit,
        "uncertainPrices": list(w.uncertain),
    }


def _environment_json(cost: EnvironmentCost) -> dict[str, Any]:
    return {
        "environment": cost.environment,
        "region": cost.region,
        "budgetPerHour": cost.budget_per_hour,
        "overBudget": cost.over_budget,
        "worstCase": _r(cost.worst_case),
        "expected": _r(cost.expected),
        "costCenters": {
            k: {"worstCase": _r(v[0]), "expected": _r(v[1])} for k, v in cost.by_cost_center().items()
        },
        "workloads": [_workload_json(w) for w in cost.workloads],
        "uncertainPrices": cost.uncertain,
    }


def costs_json(costs: list[EnvironmentCost]) -> str:
    return json.dumps(
        {
            "version": JSON_VERSION,
            "unit": "USD/h",
            "hoursPerMonth": HOURS_PER_MONTH,
            "environments": [_environment_json(c) for c in costs],
        },
        indent=2,
    )


def _over_limit(w: WorkloadCost | None) -> str:
    """The flag of a workload over its own maxCostPerHour (after a change: `None` when it was removed), or ""."""
    return f"over its maxCostPerHour {usd(w.max_cost_per_hour or 0.0)}" if w and w.over_own_limit else ""


def _over_budget(env: EnvironmentCost) -> str:
    return "over budget" if env.over_budget else ""


def _uncertain_lines(uncertain: list[str], indent: str = "  ") -> list[str]:
    if not uncertain:
        return []
    return [
        f"{indent}uncertain prices (`aiplane catalog status` lists every source and date):",
        *(f"{indent}  {note}" for note in uncertain),
    ]


def costs_text(costs: list[EnvironmentCost]) -> str:
    """Each environment, then its cost centers, each with its own workloads under it."""
    lines: list[str] = []
    for env in costs:
        flag = _over_budget(env)
        lines.append(
            f"{paint(env.environment, bold=True)} ({env.region} prices): worst case {usd(env.worst_case)}, "
            f"expected {usd(env.expected)}, budget {usd(env.budget_per_hour)} "
            f"(worst case ≈ {usd_month(env.worst_case)})"
            + (paint(f" — {flag}", fg="red", bold=True) if flag else "")
            + (UNCERTAIN_MARK if env.uncertain else "")
        )
        for center, (worst, expected) in env.by_cost_center().items():
            lines.append(f"  cost-center {center}: {usd(worst)} worst, {usd(expected)} expected")
            for w in env.workloads:
                if w.cost_center != center:
                    continue
                limit = _over_limit(w)
                lines.append(
                    f"    {w.kind}/{w.name} [{w.tier}]: {usd(w.worst_case)} worst, {usd(w.expected)} expected"
                    + (paint(f" — {limit}", fg="red", bold=True) if limit else "")
                    + (UNCERTAIN_MARK if w.uncertain else "")
                )
        lines.extend(_uncertain_lines(env.uncertain))
    lines.append(MONTH_NOTE)
    return "\n".join(lines)


def _cell(text: str) -> str:
    """A markdown table cell: pipes escaped so a name cannot break the table."""
    return text.replace("|", "\\|")


def _per_hour_and_month(value: float) -> str:
    return f"{usd(value)} · {usd_month(value)}"


def costs_markdown(costs: list[EnvironmentCost]) -> str:
    lines = [
        COMMENT_MARKER,
        "## aiplane cost",
        "",
        f"Worst case **{_per_hour_and_month(sum(c.worst_case for c in costs))}** · expected "
        f"**{_per_hour_and_month(sum(c.expected for c in costs))}**",
        "",
        "| environment | worst case | expected | budget | |",
        "|---|---|---|---|---|",
    ]
    for env in costs:
        lines.append(
            f"| {_cell(env.environment)} | {_per_hour_and_month(env.worst_case)} | "
            f"{_per_hour_and_month(env.expected)} | {usd(env.budget_per_hour)} | "
            f"{'⚠️ ' + _over_budget(env) if env.over_budget else ''}{' (uncertain price)' if env.uncertain else ''} |"
        )
    for env in costs:
        lines += [
            "",
            f"<details><summary>{env.environment}: {len(env.workloads)} workloads</summary>",
            "",
            "| workload | cost center | tier | worst case | expected | |",
            "|---|---|---|---|---|---|",
        ]
        for w in sorted(env.workloads, key=lambda w: (w.cost_center, w.kind, w.name)):
            lines.append(
                f"| {_cell(f'{w.kind}/{w.name}')} | {_cell(w.cost_center)} | {_cell(w.tier)} | "
                f"{_per_hour_and_month(w.worst_case)} | {_per_hour_and_month(w.expected)} | "
                f"{'⚠️ ' + _over_limit(w) if w.over_own_limit else ''}{' (uncertain price)' if w.uncertain else ''} |"
            )
        lines += [*_uncertain_markdown(env.uncertain), "", "</details>"]
    lines += ["", f"<sub>{MONTH_NOTE}</sub>"]
    return "\n".join(lines)


def _uncertain_markdown(uncertain: list[str]) -> list[str]:
    if not uncertain:
        return []
    return ["", "Uncertain prices (`aiplane catalog status` lists every source and date):", "",
            *(f"- {note}" for note in uncertain)]


# ---------------------------------------------------------------- a change against a git revision


def _shown_environments(comparison: CostComparison, show_all: bool) -> list[EnvironmentDelta]:
    return comparison.environments if show_all else comparison.changed


def _shown_workloads(env: EnvironmentDelta, show_all: bool) -> list[WorkloadDelta]:
    return env.workloads if show_all else env.changed_workloads


def _delta_json(w: WorkloadDelta) -> dict[str, Any]:
    current = w.current
    return {
        "kind": w.kind,
        "name": w.name,
        "status": w.status,
        "costCenter": current.cost_center,
        "tier": current.tier,
        "worstCaseBefore": _r(w.worst_before),
        "worstCaseAfter": _r(w.worst_after),
        "worstCaseDelta": _r(w.worst_after - w.worst_before),
        "expectedBefore": _r(w.expected_before),
        "expectedAfter": _r(w.expected_after),
        "expectedDelta": _r(w.expected_after - w.expected_before),
        "maxCostPerHour": w.after.max_cost_per_hour if w.after else None,
        "overMaxCostPerHour": w.over_own_limit,
        "uncertainPrices": w.uncertain,
    }


def comparison_json(comparison: CostComparison, show_all: bool) -> str:
    c = comparison
    return json.dumps(
        {
            "version": JSON_VERSION,
            "unit": "USD/h",
            "hoursPerMonth": HOURS_PER_MONTH,
            "base": c.base,
            "showAll": show_all,
            "total": {
                "worstCaseBefore": _r(c.worst_before),
                "worstCaseAfter": _r(c.worst_after),
                "worstCaseDelta": _r(c.worst_after - c.worst_before),
                "expectedBefore": _r(c.expected_before),
                "expectedAfter": _r(c.expected_after),
                "expectedDelta": _r(c.expected_after - c.expected_before),
            },
            "environments": [
                {
                    "environment": e.name,
                    "region": e.current.region,
                    "status": e.status,
                    "worstCaseBefore": _r(e.worst_before),
                    "worstCaseAfter": _r(e.worst_after),
                    "worstCaseDelta": _r(e.worst_after - e.worst_before),
                    "expectedBefore": _r(e.expected_before),
                    "expectedAfter": _r(e.expected_after),
                    "expectedDelta": _r(e.expected_after - e.expected_before),
                    "budgetPerHour": e.current.budget_per_hour,
                    "overBudget": e.over_budget,
                    "changes": [_delta_json(w) for w in _shown_workloads(e, show_all)],
                    "uncertainPrices": e.uncertain,
                }
                for e in _shown_environments(c, show_all)
            ],
        },
        indent=2,
    )


def _move(before: float, after: float) -> str:
    """`$1.00/h → $2.00/h (+$1.00/h, +$730/month)`."""
    delta = after - before
    return f"{usd(before)} → {usd(after)} ({signed(delta)}, {signed(delta, per_month=True)})"


def _status_paint(status: str, text: str) -> str:
    colours = {"added": "yellow", "removed": "green", "changed": "cyan"}
    return paint(text, fg=colours[status]) if status in colours else text


def _summary_line(comparison: CostComparison) -> str:
    c = comparison
    return (
        f"worst case {_move(c.worst_before, c.worst_after)}; expected {_move(c.expected_before, c.expected_after)}"
    )


def comparison_text(comparison: CostComparison, show_all: bool) -> str:
    lines = [f"cost against {comparison.base}: {_summary_line(comparison)}"]
    shown = _shown_environments(comparison, show_all)
    if not shown:
        lines.append("no environment's cost changes")
    for env in shown:
        flag = "over budget" if env.over_budget else ""
        lines += [
            "",
            f"{paint(env.name, bold=True)} ({env.current.region} prices, {env.status}): worst case "
            f"{_move(env.worst_before, env.worst_after)}; expected {_move(env.expected_before, env.expected_after)}; "
            f"budget {usd(env.current.budget_per_hour)}"
            + (paint(f" — {flag}", fg="red", bold=True) if flag else "")
            + (UNCERTAIN_MARK if env.uncertain else ""),
        ]
        for w in _shown_workloads(env, show_all):
            limit = _over_limit(w.after)
            lines.append(
                _status_paint(w.status, f"  {SIGNS[w.status]} {w.status} {w.kind}/{w.name}")
                + f" [{w.current.cost_center}]: worst case {_move(w.worst_before, w.worst_after)}; expected "
                f"{_move(w.expected_before, w.expected_after)}"
                + (paint(f" — {limit}", fg="red", bold=True) if limit else "")
                + (UNCERTAIN_MARK if w.uncertain else "")
            )
        lines.extend(_uncertain_lines(env.uncertain))
    lines += ["", MONTH_NOTE]
    if not show_all:
        lines.append("Only what changed is shown; --show-all lists every environment and workload.")
    return "\n".join(lines)


def _delta_cell(before: float, after: float) -> str:
    delta = after - before
    return f"{signed(delta)} ({signed(delta, per_month=True)})"


def _flag_markdown(text: str) -> str:
    return f"⚠️ {text}" if text else ""


MARKDOWN_STATUS = {"added": "➕ added", "removed": "➖ removed", "changed": "✏️ changed", "unchanged": "unchanged"}


def comparison_markdown(comparison: CostComparison, show_all: bool) -> str:
    c = comparison
    delta_month = signed(c.worst_after - c.worst_before, per_month=True)
    lines = [
        COMMENT_MARKER,
        f"## aiplane cost: {delta_month} worst case",
        "",
        f"Against `{c.base}`:",
        "",
        f"- **worst case** {_move(c.worst_before, c.worst_after)}",
        f"- **expected** {_move(c.expected_before, c.expected_after)}",
    ]
    shown = _shown_environments(c, show_all)
    if not shown:
        lines += ["", "No environment's cost changes."]
    else:
        lines += [
            "",
            "| environment | worst case | Δ worst case | expected | Δ expected | budget |",
            "|---|---|---|---|---|---|",
        ]
        for env in shown:
            budget = usd(env.current.budget_per_hour)
            if env.budget_changed and env.before is not None:
                budget = f"{usd(env.before.budget_per_hour)} → {budget}"
            if env.over_budget:
                budget += " ⚠️ over budget"
            lines.append(
                f"| {_cell(env.name)}{'' if env.status == 'changed' else ' (' + env.status + ')'} | "
                f"{usd(env.worst_before)} → {usd(env.worst_after)} | {_delta_cell(env.worst_before, env.worst_after)} | "
                f"{usd(env.expected_before)} → {usd(env.expected_after)} | "
                f"{_delta_cell(env.expected_before, env.expected_after)} | {budget} |"
            )
    for env in shown:
        workloads = _shown_workloads(env, show_all)
        if not workloads:  # only the budget changed: the table above says all there is
            continue
        counts = {s: sum(w.status == s for w in workloads) for s in MARKDOWN_STATUS}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        lines += [
            "",
            f"<details><summary>{env.name}: {summary}</summary>",
            "",
            "| | workload | cost center | worst case | Δ worst case | expected | Δ expected | |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for w in workloads:
            limit = _over_limit(w.after)
            lines.append(
                f"| {MARKDOWN_STATUS[w.status]} | {_cell(f'{w.kind}/{w.name}')} | {_cell(w.current.cost_center)} | "
                f"{usd(w.worst_before)} → {usd(w.worst_after)} | {_delta_cell(w.worst_before, w.worst_after)} | "
                f"{usd(w.expected_before)} → {usd(w.expected_after)} | "
                f"{_delta_cell(w.expected_before, w.expected_after)} | "
                f"{_flag_markdown(limit)}{' (uncertain price)' if w.uncertain else ''} |"
            )
        lines += [*_uncertain_markdown(env.uncertain), "", "</details>"]
    footer = MONTH_NOTE
    if not show_all:
        footer += " Only what changed is shown (`aiplane cost --diff REF --show-all` lists everything)."
    lines += ["", f"<sub>{footer}</sub>"]
    return "\n".join(lines)
